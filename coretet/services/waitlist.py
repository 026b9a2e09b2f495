"""Producer tier waitlist: one entry per email, its place in the queue, and the admin views of it."""
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from coretet.extensions import db
from coretet.models import ProducerWaitlist, utcnow

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ("email", "name", "reason", "joined_at")


def find(email):
    """The entry for this (normalised) email, if any."""
    return db.session.scalar(select(ProducerWaitlist).where(ProducerWaitlist.email == email.strip().lower()))


def position(entry):
    """How many entries were created at or before this one (ties broken by id)."""
    earlier = or_(
        ProducerWaitlist.created_at < entry.created_at,
        and_(ProducerWaitlist.created_at == entry.created_at, ProducerWaitlist.id <= entry.id),
    )
    return db.session.scalar(select(func.count()).select_from(ProducerWaitlist).where(earlier))


def join(email, name, reason, profile=None):
    """Add someone to the waitlist once; returns (entry, position, created)."""
    email = email.strip().lower()
    existing = find(email)
    if existing is not None:
        return existing, position(existing), False
    entry = ProducerWaitlist(email=email, name=name, reason=reason or "",
                             profile_id=profile.id if profile is not None else None)
    db.session.add(entry)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = find(email)
        if existing is None:
            raise
        return existing, position(existing), False
    return entry, position(entry), True


def entries():
    """Every entry, newest first."""
    return db.session.scalars(
        select(ProducerWaitlist).order_by(ProducerWaitlist.created_at.desc(), ProducerWaitlist.id.desc())
    ).all()


def week_start(day):
    """The Monday of the week containing day."""
    return day - timedelta(days=day.weekday())


def weekly_counts(weeks=12, today=None):
    """Signups per week for the last `weeks` weeks, oldest first, as (week_start_date, count)."""
    current = week_start(today or utcnow().date())
    starts = [current - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts = dict.fromkeys(starts, 0)
    for created in db.session.scalars(select(ProducerWaitlist.created_at)):
        start = week_start(created.date())
        if start in counts:
            counts[start] += 1
    return list(counts.items())


def safe_cell(value):
    """A CSV cell that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_rows():
    """Header and one row per entry (oldest first), cells escaped against formula injection."""
    ordered = sorted(entries(), key=lambda e: (e.created_at, e.id))
    yield CSV_HEADER
    for entry in ordered:
        yield tuple(safe_cell(v) for v in (entry.email, entry.name, entry.reason, entry.created_at.isoformat()))

