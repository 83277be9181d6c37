"""Imports every domain package's tables so `Base.metadata` knows the whole schema
(Alembic's autogenerate and the test fixtures read it from here)."""

from matchdesk import audit, program_store
from matchdesk.accounts import models as accounts_models
from matchdesk.checkins import models as checkins_models  # noqa: F401
from matchdesk.db import Base
from matchdesk.jobs import models as jobs_models  # noqa: F401
from matchdesk.mail import models as mail_models  # noqa: F401
from matchdesk.outreach import models as outreach_models  # noqa: F401
from matchdesk.results import models as results_models  # noqa: F401
from matchdesk.roster import models as roster_models
from matchdesk.rounds import models as rounds_models  # noqa: F401

__all__ = ["Base", "accounts_models", "audit", "program_store", "roster_models"]
