"""`flask --app wsgi tokens create EMAIL`: print a new API token for a user."""
from __future__ import annotations

import click
from flask import g
from flask.cli import with_appcontext
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import User
from grants.services import api_tokens


@click.group("tokens")
def tokens_cli() -> None:
    """API tokens."""


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="Command line", show_default=True, help="A name to tell the token apart.")
@with_appcontext
def create_command(email: str, name: str) -> None:
    """Create an API token for the user with EMAIL and print it (it is shown only once)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(f"No active user with the email address {email}.")
    g.audit_source = "cli"
    _, secret = api_tokens.create_token(user, name)
    db.session.commit()
    click.echo(secret)


COMMANDS = (tokens_cli,)
