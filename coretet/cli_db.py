"""`flask db verify`: check the live database against the models and the storage triggers."""
import click
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_group

from coretet.extensions import db
from coretet.services.schema_check import run_checks


@db_group.command("verify")
@with_appcontext
@click.pass_context
def verify(ctx):
    """Check every table, column, constraint, index and storage trigger; exit 1 on any failure."""
    checks = run_checks(db.engine, db.metadata)
    for check in checks:
        click.echo(f"PASS  {check.name}" if check.ok else f"FAIL  {check.name} — {check.detail}")
    failed = sum(not check.ok for check in checks)
    if failed:
        click.echo(f"{failed} of {len(checks)} checks FAILED")
        ctx.exit(1)
    click.echo(f"All {len(checks)} checks passed")


def register(app):
    """Nothing to add to the app: importing this module puts `verify` on Flask-Migrate's `db` group."""
