"""Monthly SMS credit periods: created when first needed, never rolled over."""
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coretet.extensions import db
from coretet.models import Profile, SmsCredit, utcnow
from coretet.services.credits_period import period_for
from coretet.services.tiers import get_tier


def current_period(profile, today=None):
    """The profile's credit row for the period containing today, created if missing.

    Safe when two processes ask at once: the unique (profile, period_start) key
    lets one insert win and the other read the winner's row.
    """
    today = today or utcnow().date()
    start, end = period_for(profile.created_at.date(), today)
    row = _find(profile.id, start)
    if row is not None:
        return row
    allowance = get_tier(profile.tier).sms_credits_per_month
    try:
        with db.session.begin_nested():
            row = SmsCredit(profile_id=profile.id, period_start=start, period_end=end,
                            credits_total=allowance, credits_used=0)
            db.session.add(row)
    except IntegrityError:
        row = _find(profile.id, start)
    return row


def _find(profile_id, start: date):
    return db.session.scalar(
        select(SmsCredit).where(SmsCredit.profile_id == profile_id, SmsCredit.period_start == start)
    )


def rollover(today=None):
    """Make sure every account has its current period; returns how many rows were created."""
    today = today or utcnow().date()
    created = 0
    for profile in db.session.scalars(select(Profile).order_by(Profile.created_at)):
        start, _ = period_for(profile.created_at.date(), today)
        if _find(profile.id, start) is None:
            current_period(profile, today)
            created += 1
    db.session.commit()
    return created
