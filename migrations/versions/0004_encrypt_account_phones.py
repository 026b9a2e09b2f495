"""Account phones at rest: a keyed blind index and a Fernet ciphertext replace the clear number.

profiles.phone_number (E.164 in clear, unique) becomes phone_blind_index (keyed
HMAC-SHA256, unique, for lookups and for "this number is taken") and
phone_encrypted (MultiFernet, for display). The existing numbers are moved with
the app's own keys (PHONE_HMAC_KEY, PHONE_ENCRYPTION_KEY): Flask-Migrate runs
revisions inside the app context. Downgrade decrypts them back; if a stored
number can't be decrypted with the configured keys it stops before changing
anything rather than lose the number.

Revision ID: 0004
Revises: 0003
"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

profiles = sa.table(
    "profiles",
    sa.column("id", sa.Uuid()),
    sa.column("phone_number", sa.String(16)),
    sa.column("phone_blind_index", sa.String(64)),
    sa.column("phone_encrypted", sa.String(512)),
)


def _keys():
    from flask import current_app

    from coretet.services.keys import keys_from_config

    return keys_from_config(current_app.config)


def _online():
    if op.get_context().as_sql:
        raise RuntimeError("0004 moves phone numbers with the app's keys; run it against the database, not --sql")
    return op.get_bind()


@contextmanager
def _rebuilding_profiles(bind):
    """On SQLite, batch mode rebuilds profiles under a temporary name, and SQLite refuses the
    final rename while triggers on other tables (the storage triggers on tracks) name a
    profiles table that is momentarily gone. Set those triggers aside and put them back as
    they were. PostgreSQL alters the table in place."""
    saved = []
    if bind.dialect.name == "sqlite":
        saved = bind.execute(sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name <> 'profiles'"
            " AND sql LIKE '%profiles%'"
        )).all()
        for name, _ in saved:
            op.execute(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in saved:
        op.execute(sql)


def upgrade():
    from coretet.services.phone import blind_index, encrypt_phone

    bind = _online()
    keys = _keys()
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("phone_blind_index", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("phone_encrypted", sa.String(length=512), nullable=True))

    rows = bind.execute(
        sa.select(profiles.c.id, profiles.c.phone_number).where(profiles.c.phone_number.is_not(None))
    ).all()
    for profile_id, e164 in rows:
        bind.execute(
            profiles.update().where(profiles.c.id == profile_id).values(
                phone_blind_index=blind_index(e164, keys.phone_hmac),
                phone_encrypted=encrypt_phone(e164, keys.phone_encryption),
            )
        )

    with _rebuilding_profiles(bind), op.batch_alter_table("profiles") as batch:
        batch.create_unique_constraint(batch.f("uq_profiles_phone_blind_index"), ["phone_blind_index"])
        batch.drop_constraint(batch.f("uq_profiles_phone_number"), type_="unique")
        batch.drop_column("phone_number")


def downgrade():
    from coretet.services.phone import PhoneDecryptError, decrypt_phone

    bind = _online()
    keys = _keys()
    rows = bind.execute(
        sa.select(profiles.c.id, profiles.c.phone_encrypted).where(profiles.c.phone_encrypted.is_not(None))
    ).all()
    numbers = []
    for profile_id, token in rows:
        try:
            numbers.append((profile_id, decrypt_phone(token, keys.phone_encryption)))
        except PhoneDecryptError as exc:
            raise RuntimeError(
                f"profile {profile_id}: {exc}; set PHONE_ENCRYPTION_KEY to include the key it was stored with"
            ) from None

    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("phone_number", sa.String(length=16), nullable=True))
    for profile_id, e164 in numbers:
        bind.execute(profiles.update().where(profiles.c.id == profile_id).values(phone_number=e164))

    with _rebuilding_profiles(bind), op.batch_alter_table("profiles") as batch:
        batch.create_unique_constraint(batch.f("uq_profiles_phone_number"), ["phone_number"])
        batch.drop_constraint(batch.f("uq_profiles_phone_blind_index"), type_="unique")
        batch.drop_column("phone_encrypted")
        batch.drop_column("phone_blind_index")
