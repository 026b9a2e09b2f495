"""Checks a live database against what CoreTet needs: the models' schema and working storage triggers.

run_checks() takes an Engine or Connection and the models' MetaData (no Flask
objects) and returns one Check per fact. The trigger behaviour is probed with
real rows inside a transaction that is always rolled back, so nothing remains.
"""
import uuid
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, Engine, UniqueConstraint, and_, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

STORAGE_TRIGGERS = {
    "tracks": (
        "track_insert_storage_trigger",
        "track_delete_storage_trigger",
        "track_update_storage_trigger",
    ),
    "track_comments": (
        "comment_insert_voice_trigger",
        "comment_delete_voice_trigger",
        "comment_update_voice_trigger",
    ),
}


@dataclass(frozen=True)
class Check:
    """One fact about the database: its name, whether it holds and, if not, why."""

    name: str
    ok: bool
    detail: str = ""


def run_checks(bind, metadata):
    """Every check, schema first; an Engine gets its own connection, a Connection is used as is."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            checks = schema_checks(conn, metadata) + trigger_checks(conn)
            conn.rollback()  # end the reads' implicit transaction so the probe opens its own
            return checks + behaviour_checks(conn, metadata)
    return schema_checks(bind, metadata) + trigger_checks(bind) + behaviour_checks(bind, metadata)


def schema_checks(conn, metadata):
    """Tables, columns, CHECK and UNIQUE constraints, indexes and foreign keys of the metadata."""
    inspector = inspect(conn)
    live_tables = set(inspector.get_table_names())
    checks = []
    for table in metadata.sorted_tables:
        if table.name not in live_tables:
            checks.append(Check(f"table {table.name}", False, "missing"))
            continue
        checks.append(Check(f"table {table.name}", True))
        checks.append(_columns(inspector, table))
        checks += _check_constraints(inspector, table)
        checks += _unique_constraints(inspector, table)
        checks += _indexes(inspector, table)
        checks += _foreign_keys(inspector, table)
    return checks


def _columns(inspector, table):
    live = {column["name"]: column for column in inspector.get_columns(table.name)}
    problems = []
    for column in table.columns:
        found = live.get(column.name)
        if found is None:
            problems.append(f"{column.name} missing")
        elif bool(found["nullable"]) != bool(column.nullable):
            wanted = "NULL" if column.nullable else "NOT NULL"
            problems.append(f"{column.name} should be {wanted}")
    live_pk = inspector.get_pk_constraint(table.name)["constrained_columns"]
    wanted_pk = [column.name for column in table.primary_key.columns]
    if sorted(live_pk) != sorted(wanted_pk):
        problems.append(f"primary key is ({', '.join(live_pk)}), expected ({', '.join(wanted_pk)})")
    return Check(f"columns {table.name}", not problems, "; ".join(problems))


def _named(constraints, kind):
    # The naming convention names every constraint; _NONE_NAME markers are not strings.
    return sorted(
        (c for c in constraints if isinstance(c, kind) and isinstance(c.name, str) and c.name),
        key=lambda c: c.name,
    )


def _check_constraints(inspector, table):
    live = {ck["name"] for ck in inspector.get_check_constraints(table.name)}
    return [
        Check(f"check {ck.name}", ck.name in live, "" if ck.name in live else "missing")
        for ck in _named(table.constraints, CheckConstraint)
    ]


def _unique_constraints(inspector, table):
    # SQLite may report a UNIQUE as an index and PostgreSQL reports both; either enforces it.
    live = inspector.get_unique_constraints(table.name) + [
        ix for ix in inspector.get_indexes(table.name) if ix["unique"]
    ]
    names = {entry["name"] for entry in live}
    column_sets = {tuple(entry["column_names"]) for entry in live}
    checks = []
    for uq in _named(table.constraints, UniqueConstraint):
        columns = tuple(column.name for column in uq.columns)
        ok = uq.name in names or columns in column_sets
        checks.append(Check(f"unique {uq.name}", ok, "" if ok else f"no UNIQUE on ({', '.join(columns)})"))
    return checks


def _indexes(inspector, table):
    live = inspector.get_indexes(table.name)
    by_name = {ix["name"]: ix for ix in live}
    checks = []
    for index in sorted(table.indexes, key=lambda ix: ix.name):
        columns = [column.name for column in index.columns]
        found = by_name.get(index.name) or next(
            (ix for ix in live if ix["column_names"] == columns and bool(ix["unique"]) == index.unique),
            None,
        )
        if found is None:
            checks.append(Check(f"index {index.name}", False, f"missing (on {table.name}({', '.join(columns)}))"))
        elif bool(found["unique"]) != bool(index.unique):
            checks.append(Check(f"index {index.name}", False, "uniqueness differs"))
        else:
            checks.append(Check(f"index {index.name}", True))
    return checks


def _foreign_keys(inspector, table):
    live = {
        (fk["referred_table"], tuple(fk["constrained_columns"]), tuple(fk["referred_columns"])):
            (fk.get("options", {}).get("ondelete") or "NO ACTION").upper()
        for fk in inspector.get_foreign_keys(table.name)
    }
    checks = []
    for fk in sorted(table.foreign_key_constraints, key=lambda fk: [c.name for c in fk.columns]):
        local = tuple(column.name for column in fk.columns)
        remote = tuple(element.column.name for element in fk.elements)
        key = (fk.referred_table.name, local, remote)
        name = f"foreign key {table.name}({', '.join(local)}) → {key[0]}({', '.join(remote)})"
        wanted = (fk.ondelete or "NO ACTION").upper()
        if key not in live:
            checks.append(Check(name, False, "missing"))
        elif live[key] != wanted:
            checks.append(Check(name, False, f"ON DELETE {live[key]}, expected {wanted}"))
        else:
            checks.append(Check(name, True))
    return checks


def trigger_checks(conn):
    """The storage triggers exist (and, on PostgreSQL, are enabled) on tracks and track_comments."""
    checks = []
    for table, names in STORAGE_TRIGGERS.items():
        dialect = conn.dialect.name
        if dialect == "postgresql":
            rows = conn.execute(text(
                "SELECT tgname, tgenabled <> 'D' FROM pg_trigger"
                " WHERE tgrelid = to_regclass(:table) AND NOT tgisinternal"
            ), {"table": table})
        elif dialect == "sqlite":
            rows = conn.execute(text(
                "SELECT name, 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"
            ), {"table": table})
        else:
            checks += [Check(f"trigger {name}", False, f"cannot list triggers on {dialect}") for name in names]
            continue
        enabled = dict(rows.all())
        checks += [
            Check(f"trigger {name}", bool(enabled.get(name)),
                  "" if enabled.get(name) else ("disabled" if name in enabled else f"missing on {table}"))
            for name in names
        ]
    return checks


_PROFILE_DRIFT = """
    SELECT COUNT(*) FROM (
        SELECT p.id FROM profiles p
        LEFT JOIN tracks t ON t.created_by = p.id AND t.band_id IS NULL
        GROUP BY p.id, p.storage_used
        HAVING p.storage_used <> COALESCE(SUM(t.file_size + t.attached_bytes), 0)
    ) drift
"""
_BAND_DRIFT = """
    SELECT COUNT(*) FROM (
        SELECT b.id FROM bands b
        LEFT JOIN tracks t ON t.band_id = b.id
        GROUP BY b.id, b.storage_used
        HAVING b.storage_used <> COALESCE(SUM(t.file_size + t.attached_bytes), 0)
    ) drift
"""
_ATTACHED_DRIFT = """
    SELECT COUNT(*) FROM (
        SELECT t.id FROM tracks t
        LEFT JOIN track_comments c ON c.track_id = t.id
        GROUP BY t.id, t.attached_bytes
        HAVING t.attached_bytes <> COALESCE(SUM(c.voice_size), 0)
    ) drift
"""


class _ProbeStopped(Exception):
    """A probe statement failed; the transaction can take no more statements."""


def behaviour_checks(conn, metadata):
    """Stored usage matches the tracks; then the triggers are exercised in a rolled-back transaction."""
    transaction = conn.begin_nested() if conn.in_transaction() else conn.begin()
    checks = []
    try:
        for name, query in (("profiles", _PROFILE_DRIFT), ("bands", _BAND_DRIFT),
                            ("tracks", _ATTACHED_DRIFT)):
            check_name = (f"storage: every row of {name} matches its voice memos" if name == "tracks"
                          else f"storage: every row of {name} matches its tracks")
            try:
                drift = conn.execute(text(query)).scalar_one()
            except SQLAlchemyError as exc:
                checks.append(Check(check_name, False, _first_line(exc)))
                raise _ProbeStopped from exc
            checks.append(Check(check_name, drift == 0, f"{drift} out of step" if drift else ""))
        _probe(conn, metadata, checks)
    except _ProbeStopped:
        pass
    finally:
        transaction.rollback()
    return checks


def _probe(conn, metadata, checks):
    profiles, bands, tracks, comments = (
        metadata.tables[name] for name in ("profiles", "bands", "tracks", "track_comments"))
    owner, other, band = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def sql(statement):
        try:
            return conn.execute(statement)
        except SQLAlchemyError as exc:
            checks.append(Check(current_step, False, _first_line(exc)))
            raise _ProbeStopped from exc

    def used(table, row_id):
        return sql(select(table.c.storage_used).where(table.c.id == row_id)).scalar_one()

    def covered(condition):
        size = tracks.c.file_size + tracks.c.attached_bytes
        return sql(select(func.coalesce(func.sum(size), 0)).where(condition)).scalar_one()

    def personal(profile_id):
        return covered(and_(tracks.c.band_id.is_(None), tracks.c.created_by == profile_id))

    def add_track(size, created_by, band_id=None):
        track_id = uuid.uuid4()
        sql(tracks.insert().values(
            id=track_id, lineage_id=track_id, title="schema verify probe",
            storage_key=f"verify-probe/{track_id.hex}",
            file_size=size, content_type="audio/wav", created_by=created_by, band_id=band_id,
        ))
        return track_id

    def change(track_id, **values):
        sql(tracks.update().where(tracks.c.id == track_id).values(**values))

    def step(name, action):
        nonlocal current_step
        current_step = name
        action()
        problems = []
        for label, table, row_id, expected in (
            ("owner", profiles, owner, personal(owner)),
            ("other profile", profiles, other, personal(other)),
            ("band", bands, band, covered(tracks.c.band_id == band)),
        ):
            actual = used(table, row_id)
            if actual != expected or actual < 0:
                problems.append(f"{label} storage_used {actual}, its tracks total {expected}")
        checks.append(Check(name, not problems, "; ".join(problems)))

    current_step = "trigger: probe rows can be created"
    for profile_id in (owner, other):
        sql(profiles.insert().values(
            id=profile_id, email=f"verify-{profile_id.hex}@coretet.invalid",
            password_hash="!", name="schema verify probe",
        ))
    sql(bands.insert().values(id=band, name="schema verify probe", created_by=owner))

    ids = {}
    step("trigger: insert charges owner", lambda: ids.update(
        a=add_track(1_000, owner), b=add_track(2_000, owner)))
    step("trigger: insert charges band", lambda: ids.update(
        c=add_track(4_000, owner, band), d=add_track(800, owner, band)))
    step("trigger: resize charges the difference", lambda: change(ids["a"], file_size=1_500))
    step("trigger: move personal→band", lambda: change(ids["b"], band_id=band))
    step("trigger: move band→personal", lambda: change(ids["c"], band_id=None))
    step("trigger: new owner of a personal track is charged", lambda: change(ids["a"], created_by=other))
    comment_id = uuid.uuid4()
    step("trigger: voice memo charges its track's band", lambda: sql(comments.insert().values(
        id=comment_id, track_id=ids["b"], author_id=owner, body="", voice_size=300,
        voice_storage_key=f"verify-probe/{comment_id.hex}")))
    step("trigger: voice memo moves with its track", lambda: change(ids["b"], band_id=None))
    step("trigger: deleting a voice memo credits it", lambda: (
        sql(comments.delete().where(comments.c.id == comment_id)), change(ids["b"], band_id=band)))
    step("trigger: delete credits owner", lambda: sql(tracks.delete().where(tracks.c.id == ids["c"])))
    step("trigger: delete credits band", lambda: sql(tracks.delete().where(tracks.c.id == ids["d"])))

    def delete_after_usage_was_understated():
        sql(profiles.update().where(profiles.c.id == other).values(storage_used=100))
        sql(bands.update().where(bands.c.id == band).values(storage_used=100))
        sql(tracks.delete().where(tracks.c.id.in_([ids["a"], ids["b"]])))

    step("trigger: usage never goes below 0", delete_after_usage_was_understated)


def _first_line(exc):
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
