from pathlib import Path

import pytest

from matchdesk.config import Settings, settings_documentation
from matchdesk.mail.delivery import delivery_settings_documentation


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    documented = {**settings_documentation(), **delivery_settings_documentation()}
    for variable, description in documented.items():
        assert description, f"{variable} has no description"
        assert f"`{variable}`" in readme, f"{variable} is not documented in README.md"


def test_settings_come_from_matchdesk_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHDESK_DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("MATCHDESK_PORT", "9000")
    settings = Settings()
    assert (settings.database_url, settings.port, settings.host) == (
        "postgresql://db/x",
        9000,
        "127.0.0.1",
    )
    assert settings.program == Path("matchdesk.toml")
