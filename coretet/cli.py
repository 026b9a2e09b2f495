"""Command-line commands: `flask seed-demo`, `flask credits rollover`, `flask users promote`, `flask tracks analyze`."""
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
storage_cli = AppGroup("storage", help="Stored audio files.")
sms_cli = AppGroup("sms", help="Outbound text messages.")
tracks_cli = AppGroup("tracks", help="Uploaded tracks.")
stripe_cli = AppGroup("stripe", help="Stripe products and prices.")


@stripe_cli.command("setup")
@with_appcontext
def stripe_setup():
    """Create the Band price, first-month coupon and credit pack prices once; print the settings."""
    import stripe as stripe_sdk

    from coretet.services import stripe_gateway, stripe_setup as setup

    try:
        lines = setup.ensure_catalogue(stripe_gateway.client(current_app.config))
    except (stripe_gateway.BillingUnavailable, stripe_sdk.StripeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("# Add these to the environment of every web process:")
    for setting, object_id, created in lines:
        click.echo(f"{setting}={object_id}    # {'created' if created else 'already there'}")


@sms_cli.command("recover")
@click.option("--older-than", default=300, show_default=True, help="Seconds a send may take before it counts as stuck.")
@with_appcontext
def sms_recover(older_than):
    """Finish texts a crashed worker left half-sent (schedule every few minutes)."""
    from coretet.tasks import recover_stuck_sms

    outcome = recover_stuck_sms(older_than)
    click.echo(f"Recorded {outcome['recorded']} already-sent, requeued {outcome['requeued']}.")


@storage_cli.command("sweep")
@click.option("--older-than", default=3600, show_default=True, help="Seconds a file must have existed.")
@with_appcontext
def storage_sweep(older_than):
    """Delete stored files that no track row points to (left by crashed uploads)."""
    from coretet.services.filestore import store_from_config
    from coretet.services.uploads import sweep_orphans

    removed = sweep_orphans(store_from_config(current_app.config), older_than_seconds=older_than)
    click.echo(f"Removed {len(removed)} orphaned file{'s' if len(removed) != 1 else ''}.")


@tracks_cli.command("analyze")
@click.argument("track_ids", nargs=-1)
@click.option("--all-pending", is_flag=True, help="Every track that is pending, failed or abandoned mid-analysis.")
@with_appcontext
def tracks_analyze(track_ids, all_pending):
    """Queue waveform and loudness analysis for TRACK_IDS (done again), or with --all-pending."""
    import uuid

    from coretet.tasks import requeue_analysis

    if bool(track_ids) == all_pending:
        raise click.UsageError("Give track ids or --all-pending (not both).")
    try:
        ids = [str(uuid.UUID(value)) for value in track_ids]
    except ValueError as exc:
        raise click.BadParameter("track ids are UUIDs", param_hint="TRACK_IDS") from exc
    queued = requeue_analysis(ids)
    click.echo(f"Queued analysis of {len(queued)} track{'s' if len(queued) != 1 else ''}.")


@credits_cli.command("schedule")
@with_appcontext
def credits_schedule():
    """Run the rollover daily through RQ's scheduler instead of cron (needs REDIS_URL and worker.py)."""
    from datetime import timedelta

    from coretet.schedule import schedule_rollover

    if schedule_rollover(current_app, delay=timedelta(seconds=0)) is None:
        raise click.ClickException("Scheduling through RQ needs REDIS_URL; use cron or the systemd timer instead.")
    click.echo("The credit rollover runs now and then every 24 hours through the RQ worker's scheduler.")


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
    from coretet.services.keys import keys_from_config

    created = demo.seed(store_from_config(current_app.config), keys_from_config(current_app.config))
    click.echo("Demo data loaded." if created else "Demo data is already there.")
    click.echo("Demo sign-ins (password for all: %s):" % demo.DEMO_PASSWORD)
    for email, description in demo.DEMO_LOGINS:
        click.echo(f"  {email:<28} {description}")


def register(app):
    app.cli.add_command(credits_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(storage_cli)
    app.cli.add_command(sms_cli)
    app.cli.add_command(tracks_cli)
    app.cli.add_command(stripe_cli)
    app.cli.add_command(seed_demo)
    register_db_commands(app)
