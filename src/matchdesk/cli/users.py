"""`matchdesk users ...` and `matchdesk tokens ...`: operators and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from matchdesk.cli.support import _app, out

users_app = typer.Typer(help="Operators: the ops team's accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The operator's e-mail (their sign-in name).")],
    role: Annotated[str, typer.Option(help="admin, manager or viewer.")] = "manager",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None, typer.Option(help="At least 10 characters; asked for when left out.")
    ] = None,
) -> None:
    """Add an operator."""
    from matchdesk.accounts.service import create_operator

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    md = _app()
    with md.transaction() as session:
        operator = create_operator(session, email, password, role, name)
    out.print(f"Operator {operator.email} ({operator.role}) created.")


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Argument(help="The operator's e-mail.")],
    password: Annotated[str | None, typer.Option(help="Asked for when left out.")] = None,
) -> None:
    """Set an operator's password (and lift a sign-in lock)."""
    from matchdesk.accounts.service import find_operator, set_password

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    md = _app()
    with md.transaction() as session:
        set_password(session, find_operator(session, email), password)
    out.print(f"Password of {email.strip().lower()} changed.")


@users_app.command("bootstrap")
def users_bootstrap() -> None:
    """Create a first admin with a random password if there is no operator yet."""
    import secrets

    from matchdesk.accounts.service import count_operators, create_operator

    md = _app()
    with md.transaction() as session:
        if count_operators(session):
            out.print("Sign in with your operator account (add one: matchdesk users create EMAIL).")
            return
        password = secrets.token_urlsafe(12)
        create_operator(session, "admin@example.com", password, "admin", "Admin")
    out.print(
        f"First admin created. Sign in at {md.settings.public_url()}/login as "
        f"[bold]admin@example.com[/] with password [bold]{password}[/] "
        "(change it: matchdesk users set-password admin@example.com)."
    )


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    role: Annotated[str, typer.Option(help="admin, manager or viewer.")] = "viewer",
) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    from matchdesk.accounts.service import create_token

    md = _app()
    with md.transaction() as session:
        issued = create_token(session, name, role)
    out.print(f"Token {issued.record.prefix}… ({role}) created; keep it secret:")
    print(issued.token)


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke an API token."""
    from matchdesk.accounts.service import revoke_token

    md = _app()
    with md.transaction() as session:
        token = revoke_token(session, token_id)
    out.print(f"Token {token.prefix}… revoked.")
