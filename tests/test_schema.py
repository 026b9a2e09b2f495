"""`flask db verify` on both databases: a migrated schema passes, damage is named, migrations round-trip."""
import uuid
from contextlib import ExitStack

import pytest
from sqlalchemy import Column, MetaData, String, func, select, text

from coretet.extensions import db
from coretet.models import Band, Base, Profile, Track
from coretet.services.schema_check import STORAGE_TRIGGERS, run_checks
from tests.conftest import build_app, throwaway_postgres_database
from tests.factories import make_band, make_profile, make_track


def verify(runner):
    result = runner.invoke(args=["db", "verify"])
    lines = result.output.strip().splitlines()
    return result, lines[:-1], lines[-1]


@pytest.fixture
def fresh_app(request, backend, tmp_path):
    """An app on its own newly migrated database, for tests that damage or rebuild the schema."""
    with ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'fresh.db'}"
        else:
            server = request.getfixturevalue("postgres_url")
            url = stack.enter_context(throwaway_postgres_database(server, prefix="coretet_verify"))
        app = build_app(url, tmp_path)
        with app.app_context():
            yield app
            db.engine.dispose()


def execute_ddl(statement):
    with db.engine.begin() as conn:
        conn.execute(text(statement))


def test_verify_prints_only_pass_lines_and_exits_0_on_a_migrated_database(runner):
    """Every check passes on the session's migrated database, and each is reported."""
    result, lines, summary = verify(runner)

    assert result.exit_code == 0, result.output
    assert lines and all(line.startswith("PASS  ") for line in lines)
    assert summary == f"All {len(lines)} checks passed"
    for table in Base.metadata.tables:
        assert f"PASS  table {table}" in lines
        assert f"PASS  columns {table}" in lines
    for name in (n for names in STORAGE_TRIGGERS.values() for n in names):
        assert f"PASS  trigger {name}" in lines
    assert "PASS  index ix_tracks_band_created" in lines
    assert "PASS  check ck_profiles_storage_used_non_negative" in lines
    assert "PASS  unique uq_profiles_email" in lines
    assert "PASS  foreign key tracks(band_id) → bands(id)" in lines
    assert "PASS  trigger: move personal→band" in lines
    assert "PASS  trigger: usage never goes below 0" in lines


def test_verify_leaves_no_rows_and_no_usage_changes_behind(app, runner):
    """The trigger probe runs in a rolled-back transaction: existing rows and counts are untouched."""
    owner = make_profile()
    band = make_band(owner)
    make_track(owner, size=700)
    make_track(owner, band=band, size=900)

    def snapshot():
        db.session.expire_all()
        counts = [db.session.scalar(select(func.count()).select_from(model)) for model in (Profile, Band, Track)]
        return counts, db.session.get(Profile, owner.id).storage_used, db.session.get(Band, band.id).storage_used

    before = snapshot()
    db.session.commit()  # hand the session's connection back so the probe never waits on it
    result, _, _ = verify(runner)

    assert result.exit_code == 0, result.output
    assert snapshot() == before == ([1, 1, 2], 700, 900)


def test_verify_inside_an_open_transaction_rolls_back_only_its_own_probe(app):
    """Given a Connection already in a transaction, the probe uses a savepoint and the caller's row survives."""
    with db.engine.connect() as conn:
        conn.execute(Profile.__table__.insert().values(
            id=uuid.uuid4(), email="caller@example.com", password_hash="!", name="Caller",
        ))
        checks = run_checks(conn, Base.metadata)
        emails = conn.execute(select(Profile.email)).scalars().all()
        conn.rollback()

    assert [check for check in checks if not check.ok] == []
    assert emails == ["caller@example.com"]
    assert db.session.scalar(select(func.count()).select_from(Profile)) == 0


def test_verify_reports_storage_usage_that_drifted_from_the_tracks(app, runner):
    """A profile charged for bytes it has no tracks for fails the stored-data check."""
    owner = make_profile()
    make_track(owner, size=500)
    db.session.execute(text("UPDATE profiles SET storage_used = 1"))
    db.session.commit()

    result, lines, summary = verify(runner)

    assert result.exit_code == 1
    assert "FAIL  storage: every row of profiles matches its tracks — 1 out of step" in lines
    assert "PASS  storage: every row of bands matches its tracks" in lines
    assert summary == f"1 of {len(lines)} checks FAILED"


def test_verify_names_a_column_the_models_have_but_the_database_lacks(app):
    """A column or nullability the models expect but the database lacks fails that table's column check."""
    expected = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(expected)
    expected.tables["profiles"].append_column(Column("nickname", String(40)))
    expected.tables["bands"].c.created_by.nullable = False

    failures = {check.name: check.detail for check in run_checks(db.engine, expected) if not check.ok}

    assert failures == {
        "columns profiles": "nickname missing",
        "columns bands": "created_by should be NOT NULL",
    }


def test_dropping_a_storage_trigger_fails_verify_and_names_it(fresh_app):
    """Without the update trigger, verify names it and its probes catch resize and moves going wrong."""
    on_tracks = " ON tracks" if db.engine.dialect.name == "postgresql" else ""
    execute_ddl(f"DROP TRIGGER track_update_storage_trigger{on_tracks}")

    result, lines, summary = verify(fresh_app.test_cli_runner())

    assert result.exit_code == 1
    assert "FAIL  trigger track_update_storage_trigger — missing on tracks" in lines
    assert "PASS  trigger track_insert_storage_trigger" in lines
    assert any(line.startswith("FAIL  trigger: resize charges the difference — ") for line in lines)
    assert "FAILED" in summary


def test_dropping_an_index_fails_verify_and_names_it(fresh_app):
    """A lookup index that is gone is reported by name."""
    execute_ddl("DROP INDEX ix_tracks_band_created")

    result, lines, _ = verify(fresh_app.test_cli_runner())

    assert result.exit_code == 1
    assert [line for line in lines if line.startswith("FAIL")] == [
        "FAIL  index ix_tracks_band_created — missing (on tracks(band_id, created_at))"
    ]


def test_a_trigger_that_lets_usage_go_negative_fails_the_probe(fresh_app):
    """A delete trigger without the floor at zero is caught by the understated-usage probe."""
    if db.engine.dialect.name == "postgresql":
        execute_ddl(
            "CREATE OR REPLACE FUNCTION track_storage_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN UPDATE profiles SET storage_used = storage_used - OLD.file_size"
            " WHERE OLD.band_id IS NULL AND id = OLD.created_by; RETURN OLD; END; $$"
        )
    else:
        execute_ddl("DROP TRIGGER track_delete_storage_trigger")
        execute_ddl(
            "CREATE TRIGGER track_delete_storage_trigger AFTER DELETE ON tracks BEGIN"
            " UPDATE profiles SET storage_used = storage_used - OLD.file_size"
            " WHERE OLD.band_id IS NULL AND id = OLD.created_by; END"
        )

    result, lines, _ = verify(fresh_app.test_cli_runner())

    assert result.exit_code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert any(line.startswith("FAIL  trigger: delete credits band — ") for line in failed)
    assert any(line.startswith("FAIL  trigger: usage never goes below 0 — ") for line in failed)


def test_downgrade_to_base_then_upgrade_again_gives_a_database_that_verifies(fresh_app):
    """`flask db downgrade base` removes everything cleanly and `flask db upgrade` rebuilds it."""
    runner = fresh_app.test_cli_runner()

    down = runner.invoke(args=["db", "downgrade", "base"])
    assert down.exit_code == 0, down.output
    result, lines, _ = verify(runner)
    assert result.exit_code == 1
    assert "FAIL  table tracks — missing" in lines
    assert all(not line.startswith("PASS  trigger") for line in lines)

    up = runner.invoke(args=["db", "upgrade"])
    assert up.exit_code == 0, up.output
    result, lines, _ = verify(runner)
    assert result.exit_code == 0, result.output
    assert all(line.startswith("PASS  ") for line in lines)
