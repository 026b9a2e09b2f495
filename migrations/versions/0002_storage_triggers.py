"""Storage triggers on tracks: keep storage_used equal to the sizes of the tracks it covers.

A band track counts against its band, a personal track (band_id NULL) against
its creator's profile. An update that changes the size, the band or the owner
credits the old account and charges the new one. Usage never goes below zero.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TRIGGERS = (
    "track_insert_storage_trigger",
    "track_delete_storage_trigger",
    "track_update_storage_trigger",
)

POSTGRES_FUNCTIONS = """
CREATE FUNCTION coretet_charge_storage(p_band uuid, p_owner uuid, p_bytes bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_band IS NOT NULL THEN
        UPDATE bands SET storage_used = GREATEST(0, storage_used + p_bytes) WHERE id = p_band;
    ELSE
        UPDATE profiles SET storage_used = GREATEST(0, storage_used + p_bytes) WHERE id = p_owner;
    END IF;
END;
$$;

CREATE FUNCTION track_storage_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(NEW.band_id, NEW.created_by, NEW.file_size);
    RETURN NEW;
END;
$$;

CREATE FUNCTION track_storage_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(OLD.band_id, OLD.created_by, -OLD.file_size);
    RETURN OLD;
END;
$$;

CREATE FUNCTION track_storage_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(OLD.band_id, OLD.created_by, -OLD.file_size);
    PERFORM coretet_charge_storage(NEW.band_id, NEW.created_by, NEW.file_size);
    RETURN NEW;
END;
$$;

CREATE TRIGGER track_insert_storage_trigger AFTER INSERT ON tracks
    FOR EACH ROW EXECUTE FUNCTION track_storage_on_insert();
CREATE TRIGGER track_delete_storage_trigger AFTER DELETE ON tracks
    FOR EACH ROW EXECUTE FUNCTION track_storage_on_delete();
CREATE TRIGGER track_update_storage_trigger AFTER UPDATE OF file_size, band_id, created_by ON tracks
    FOR EACH ROW
    WHEN (OLD.file_size IS DISTINCT FROM NEW.file_size
          OR OLD.band_id IS DISTINCT FROM NEW.band_id
          OR OLD.created_by IS DISTINCT FROM NEW.created_by)
    EXECUTE FUNCTION track_storage_on_update();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS track_update_storage_trigger ON tracks;
DROP TRIGGER IF EXISTS track_delete_storage_trigger ON tracks;
DROP TRIGGER IF EXISTS track_insert_storage_trigger ON tracks;
DROP FUNCTION IF EXISTS track_storage_on_update();
DROP FUNCTION IF EXISTS track_storage_on_delete();
DROP FUNCTION IF EXISTS track_storage_on_insert();
DROP FUNCTION IF EXISTS coretet_charge_storage(uuid, uuid, bigint);
"""

# SQLite has no functions or IF in triggers: each statement carries its own WHERE.
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER track_insert_storage_trigger AFTER INSERT ON tracks
    BEGIN
        UPDATE bands SET storage_used = MAX(0, storage_used + NEW.file_size)
            WHERE NEW.band_id IS NOT NULL AND id = NEW.band_id;
        UPDATE profiles SET storage_used = MAX(0, storage_used + NEW.file_size)
            WHERE NEW.band_id IS NULL AND id = NEW.created_by;
    END
    """,
    """
    CREATE TRIGGER track_delete_storage_trigger AFTER DELETE ON tracks
    BEGIN
        UPDATE bands SET storage_used = MAX(0, storage_used - OLD.file_size)
            WHERE OLD.band_id IS NOT NULL AND id = OLD.band_id;
        UPDATE profiles SET storage_used = MAX(0, storage_used - OLD.file_size)
            WHERE OLD.band_id IS NULL AND id = OLD.created_by;
    END
    """,
    """
    CREATE TRIGGER track_update_storage_trigger AFTER UPDATE OF file_size, band_id, created_by ON tracks
    WHEN OLD.file_size IS NOT NEW.file_size
        OR OLD.band_id IS NOT NEW.band_id
        OR OLD.created_by IS NOT NEW.created_by
    BEGIN
        UPDATE bands SET storage_used = MAX(0, storage_used - OLD.file_size)
            WHERE OLD.band_id IS NOT NULL AND id = OLD.band_id;
        UPDATE profiles SET storage_used = MAX(0, storage_used - OLD.file_size)
            WHERE OLD.band_id IS NULL AND id = OLD.created_by;
        UPDATE bands SET storage_used = MAX(0, storage_used + NEW.file_size)
            WHERE NEW.band_id IS NOT NULL AND id = NEW.band_id;
        UPDATE profiles SET storage_used = MAX(0, storage_used + NEW.file_size)
            WHERE NEW.band_id IS NULL AND id = NEW.created_by;
    END
    """,
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTIONS)
    elif dialect == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        raise RuntimeError(f"CoreTet's storage triggers support PostgreSQL and SQLite, not {dialect}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_DROP)
    else:
        for name in reversed(TRIGGERS):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
