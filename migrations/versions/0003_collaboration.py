"""Collaboration: track analysis and versions, engagement, comments; storage counts voice memos.

Tracks gain analysis columns (waveform peaks, loudness), version columns
(lineage_id shared by all versions, version_number, notes) and attached_bytes,
the bytes of voice memos left in comments on the track. The storage triggers
now charge file_size + attached_bytes, and new triggers on track_comments keep
attached_bytes equal to the sum of the track's voice memo sizes, so a voice
memo counts against the same workspace as its track, moves with it and is
credited back when the comment or the track goes.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TRACK_TRIGGERS = (
    "track_insert_storage_trigger",
    "track_delete_storage_trigger",
    "track_update_storage_trigger",
)
COMMENT_TRIGGERS = (
    "comment_insert_voice_trigger",
    "comment_delete_voice_trigger",
    "comment_update_voice_trigger",
)

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION track_storage_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(NEW.band_id, NEW.created_by, NEW.file_size + NEW.attached_bytes);
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION track_storage_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(OLD.band_id, OLD.created_by, -(OLD.file_size + OLD.attached_bytes));
    RETURN OLD;
END;
$$;

CREATE OR REPLACE FUNCTION track_storage_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(OLD.band_id, OLD.created_by, -(OLD.file_size + OLD.attached_bytes));
    PERFORM coretet_charge_storage(NEW.band_id, NEW.created_by, NEW.file_size + NEW.attached_bytes);
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS track_update_storage_trigger ON tracks;
CREATE TRIGGER track_update_storage_trigger
    AFTER UPDATE OF file_size, attached_bytes, band_id, created_by ON tracks
    FOR EACH ROW
    WHEN (OLD.file_size IS DISTINCT FROM NEW.file_size
          OR OLD.attached_bytes IS DISTINCT FROM NEW.attached_bytes
          OR OLD.band_id IS DISTINCT FROM NEW.band_id
          OR OLD.created_by IS DISTINCT FROM NEW.created_by)
    EXECUTE FUNCTION track_storage_on_update();

CREATE FUNCTION comment_voice_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.voice_size <> 0 THEN
        UPDATE tracks SET attached_bytes = attached_bytes + NEW.voice_size WHERE id = NEW.track_id;
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION comment_voice_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.voice_size <> 0 THEN
        UPDATE tracks SET attached_bytes = GREATEST(0, attached_bytes - OLD.voice_size)
            WHERE id = OLD.track_id;
    END IF;
    RETURN OLD;
END;
$$;

CREATE FUNCTION comment_voice_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tracks SET attached_bytes = GREATEST(0, attached_bytes - OLD.voice_size)
        WHERE id = OLD.track_id;
    UPDATE tracks SET attached_bytes = attached_bytes + NEW.voice_size WHERE id = NEW.track_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER comment_insert_voice_trigger AFTER INSERT ON track_comments
    FOR EACH ROW EXECUTE FUNCTION comment_voice_on_insert();
CREATE TRIGGER comment_delete_voice_trigger AFTER DELETE ON track_comments
    FOR EACH ROW EXECUTE FUNCTION comment_voice_on_delete();
CREATE TRIGGER comment_update_voice_trigger AFTER UPDATE OF voice_size, track_id ON track_comments
    FOR EACH ROW
    WHEN (OLD.voice_size IS DISTINCT FROM NEW.voice_size OR OLD.track_id IS DISTINCT FROM NEW.track_id)
    EXECUTE FUNCTION comment_voice_on_update();
"""

POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS comment_update_voice_trigger ON track_comments;
DROP TRIGGER IF EXISTS comment_delete_voice_trigger ON track_comments;
DROP TRIGGER IF EXISTS comment_insert_voice_trigger ON track_comments;
DROP FUNCTION IF EXISTS comment_voice_on_update();
DROP FUNCTION IF EXISTS comment_voice_on_delete();
DROP FUNCTION IF EXISTS comment_voice_on_insert();

CREATE OR REPLACE FUNCTION track_storage_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(NEW.band_id, NEW.created_by, NEW.file_size);
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION track_storage_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(OLD.band_id, OLD.created_by, -OLD.file_size);
    RETURN OLD;
END;
$$;

CREATE OR REPLACE FUNCTION track_storage_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM coretet_charge_storage(OLD.band_id, OLD.created_by, -OLD.file_size);
    PERFORM coretet_charge_storage(NEW.band_id, NEW.created_by, NEW.file_size);
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS track_update_storage_trigger ON tracks;
CREATE TRIGGER track_update_storage_trigger AFTER UPDATE OF file_size, band_id, created_by ON tracks
    FOR EACH ROW
    WHEN (OLD.file_size IS DISTINCT FROM NEW.file_size
          OR OLD.band_id IS DISTINCT FROM NEW.band_id
          OR OLD.created_by IS DISTINCT FROM NEW.created_by)
    EXECUTE FUNCTION track_storage_on_update();
"""


def _sqlite_track_triggers(size_new, size_old, update_columns, update_when):
    """The three track storage triggers for SQLite, charging the given size expressions."""
    charge = (
        "UPDATE bands SET storage_used = MAX(0, storage_used {sign} {size})"
        " WHERE {row}.band_id IS NOT NULL AND id = {row}.band_id;"
        " UPDATE profiles SET storage_used = MAX(0, storage_used {sign} {size})"
        " WHERE {row}.band_id IS NULL AND id = {row}.created_by;"
    )
    add_new = charge.format(sign="+", size=size_new, row="NEW")
    remove_old = charge.format(sign="-", size=size_old, row="OLD")
    return (
        f"CREATE TRIGGER track_insert_storage_trigger AFTER INSERT ON tracks BEGIN {add_new} END",
        f"CREATE TRIGGER track_delete_storage_trigger AFTER DELETE ON tracks BEGIN {remove_old} END",
        f"CREATE TRIGGER track_update_storage_trigger AFTER UPDATE OF {update_columns} ON tracks"
        f" WHEN {update_when} BEGIN {remove_old} {add_new} END",
    )


SQLITE_TRACK_UP = _sqlite_track_triggers(
    "(NEW.file_size + NEW.attached_bytes)", "(OLD.file_size + OLD.attached_bytes)",
    "file_size, attached_bytes, band_id, created_by",
    "OLD.file_size IS NOT NEW.file_size OR OLD.attached_bytes IS NOT NEW.attached_bytes"
    " OR OLD.band_id IS NOT NEW.band_id OR OLD.created_by IS NOT NEW.created_by",
)
SQLITE_TRACK_DOWN = _sqlite_track_triggers(
    "NEW.file_size", "OLD.file_size", "file_size, band_id, created_by",
    "OLD.file_size IS NOT NEW.file_size OR OLD.band_id IS NOT NEW.band_id"
    " OR OLD.created_by IS NOT NEW.created_by",
)
SQLITE_COMMENT_UP = (
    """
    CREATE TRIGGER comment_insert_voice_trigger AFTER INSERT ON track_comments
    WHEN NEW.voice_size <> 0
    BEGIN
        UPDATE tracks SET attached_bytes = attached_bytes + NEW.voice_size WHERE id = NEW.track_id;
    END
    """,
    """
    CREATE TRIGGER comment_delete_voice_trigger AFTER DELETE ON track_comments
    WHEN OLD.voice_size <> 0
    BEGIN
        UPDATE tracks SET attached_bytes = MAX(0, attached_bytes - OLD.voice_size) WHERE id = OLD.track_id;
    END
    """,
    """
    CREATE TRIGGER comment_update_voice_trigger AFTER UPDATE OF voice_size, track_id ON track_comments
    WHEN OLD.voice_size IS NOT NEW.voice_size OR OLD.track_id IS NOT NEW.track_id
    BEGIN
        UPDATE tracks SET attached_bytes = MAX(0, attached_bytes - OLD.voice_size) WHERE id = OLD.track_id;
        UPDATE tracks SET attached_bytes = attached_bytes + NEW.voice_size WHERE id = NEW.track_id;
    END
    """,
)


def _create_tables():
    op.create_table(
        "track_engagements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("seconds_listened", sa.Float(), nullable=False),
        sa.Column("last_position", sa.Float(), nullable=True),
        sa.Column("last_beacon_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("listened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reaction", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seconds_listened >= 0", name=op.f("ck_track_engagements_seconds_listened_non_negative")),
        sa.CheckConstraint("reaction IS NULL OR reaction IN ('liked', 'loved')",
                           name=op.f("ck_track_engagements_reaction_valid")),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], ondelete="CASCADE",
                                name=op.f("fk_track_engagements_profile_id_profiles")),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE",
                                name=op.f("fk_track_engagements_track_id_tracks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_engagements")),
        sa.UniqueConstraint("track_id", "profile_id", name="uq_track_engagements_track_profile"),
    )
    op.create_index(op.f("ix_track_engagements_track_id"), "track_engagements", ["track_id"])
    op.create_index(op.f("ix_track_engagements_profile_id"), "track_engagements", ["profile_id"])

    op.create_table(
        "track_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("position_seconds", sa.Float(), nullable=True),
        sa.Column("voice_storage_key", sa.String(length=255), nullable=True),
        sa.Column("voice_size", sa.BigInteger(), nullable=False),
        sa.Column("voice_duration", sa.Float(), nullable=True),
        sa.Column("voice_content_type", sa.String(length=64), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position_seconds IS NULL OR position_seconds >= 0",
                           name=op.f("ck_track_comments_position_non_negative")),
        sa.CheckConstraint("voice_size >= 0", name=op.f("ck_track_comments_voice_size_non_negative")),
        sa.CheckConstraint("voice_duration IS NULL OR (voice_duration >= 0 AND voice_duration <= 31)",
                           name=op.f("ck_track_comments_voice_duration_in_range")),
        sa.ForeignKeyConstraint(["author_id"], ["profiles.id"], ondelete="CASCADE",
                                name=op.f("fk_track_comments_author_id_profiles")),
        sa.ForeignKeyConstraint(["parent_id"], ["track_comments.id"], ondelete="CASCADE",
                                name=op.f("fk_track_comments_parent_id_track_comments")),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE",
                                name=op.f("fk_track_comments_track_id_tracks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_comments")),
        sa.UniqueConstraint("voice_storage_key", name=op.f("uq_track_comments_voice_storage_key")),
    )
    op.create_index(op.f("ix_track_comments_author_id"), "track_comments", ["author_id"])
    op.create_index(op.f("ix_track_comments_parent_id"), "track_comments", ["parent_id"])
    op.create_index("ix_track_comments_track_created", "track_comments", ["track_id", "created_at"])


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("tracks") as batch:
        batch.add_column(sa.Column("attached_bytes", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lineage_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("version_number", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("version_notes", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("analysis_status", sa.String(length=16), nullable=False,
                                   server_default="pending"))
        batch.add_column(sa.Column("analysis_error", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("waveform_peaks", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("loudness_lufs", sa.Float(), nullable=True))
        batch.add_column(sa.Column("analyzed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE tracks SET lineage_id = id")
    with op.batch_alter_table("tracks") as batch:
        batch.alter_column("lineage_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_check_constraint("attached_bytes_non_negative", "attached_bytes >= 0")
        batch.create_check_constraint("version_number_positive", "version_number >= 1")
        batch.create_check_constraint(
            "analysis_status_valid", "analysis_status IN ('pending', 'running', 'done', 'failed')")
        batch.create_unique_constraint("uq_tracks_lineage_version", ["lineage_id", "version_number"])
        batch.create_index(batch.f("ix_tracks_lineage_id"), ["lineage_id"])
    _create_tables()

    if dialect == "postgresql":
        op.execute(POSTGRES_UP)
    else:
        # batch_alter_table rebuilt tracks on SQLite, which dropped its triggers.
        for name in TRACK_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_TRACK_UP + SQLITE_COMMENT_UP:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_DOWN)
    else:
        for name in COMMENT_TRIGGERS + TRACK_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("track_comments")
    op.drop_table("track_engagements")
    # Voice memo bytes leave with the comments table.
    op.execute("UPDATE tracks SET attached_bytes = 0")
    with op.batch_alter_table("tracks") as batch:
        batch.drop_index(batch.f("ix_tracks_lineage_id"))
        batch.drop_constraint("uq_tracks_lineage_version", type_="unique")
        batch.drop_constraint("analysis_status_valid", type_="check")
        batch.drop_constraint("version_number_positive", type_="check")
        batch.drop_constraint("attached_bytes_non_negative", type_="check")
        for column in ("analyzed_at", "loudness_lufs", "waveform_peaks", "analysis_error", "analysis_status",
                       "version_notes", "version_number", "lineage_id", "attached_bytes"):
            batch.drop_column(column)
    if dialect != "postgresql":
        for name in TRACK_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_TRACK_DOWN:
            op.execute(statement)
