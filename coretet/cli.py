"""Command-line commands: `flask seed-demo`, `flask credits rollover`, `flask users promote`."""
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from coretet.cli_db import register as register_db_commands
from coretet.extensions import db
from coretet.models import AdminAction, Profile
from coretet.services import accounts, credits

credits_cli = AppGroup("credits", help="SMS credit periods.")
users_cli = AppGroup("users", help="Accounts.")


@credits_cli.command("rollover")
@with_appcontext
def credits_rollover():
    """Open the current monthly period for every account (schedule daily)."""
    created = credits.rollover()
    click.echo(f"Opened {created} new credit period{'s' if created != 1 else ''}.")


@users_cli.command("promote")
@click.argument("email")
@with_appcontext
def users_promote(email):
    """Make the account with EMAIL an admin."""
    profile = db.session.scalar(select(Profile).where(Profile.email == accounts.normalise_email(email)))
    if profile is None:
        raise click.ClickException(f"No account with the email {email}.")
    if profile.is_admin:
        click.echo(f"{profile.email} is already an admin.")
        return
    profile.is_admin = True
    db.session.add(AdminAction(admin_id=None, target_profile_id=profile.id, action="promote_admin",
                               details={"via": "cli"}))
    db.session.commit()
    click.echo(f"{profile.email} is now an admin.")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load demo accounts, a band, generated audio and playlists (once)."""
    from coretet.services import demo
    from coretet.services.filestore import store_from_config

    created = demo.seed(store_from_config(current_app.config))
    click.echo("Demo data loaded." if created else "Demo data is already there.")
    click.echo("Demo sign-ins (password for all: %s):" % demo.DEMO_PASSWORD)
    for email, description in demo.DEMO_LOGINS:
        click.echo(f"  {email:<28} {description}")


def register(app):
    app.cli.add_command(credits_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
    register_db_commands(app)
