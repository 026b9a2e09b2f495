"""SMS credits: the balance, an atomic debit that never goes below zero, and a refund that happens once.

Monthly credits are spent before purchased ones. Functions here never commit:
the debit must land in the same transaction as the messages it pays for.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from coretet.extensions import db
from coretet.models import Profile, SmsCredit, SmsMessage, utcnow
from coretet.services.credits import current_period
from coretet.services.workspaces import Forbidden


class NotEnoughCredits(Forbidden):
    """A send needs more credits than are left; `needed` and `left` say how many."""

    def __init__(self, needed, left):
        noun = "credit" if needed == 1 else "credits"
        super().__init__(f"Sending needs {needed} SMS {noun} and you have {left} left. "
                         "Buy more credits or wait for your monthly credits to reset.")
        self.needed, self.left = needed, left


@dataclass(frozen=True)
class Balance:
    monthly_total: int
    monthly_used: int
    monthly_left: int
    purchased: int
    total_left: int
    resets_on: date


def lock_profile(profile_id):
    """The profile row, re-read and locked until the transaction ends: credit changes queue here."""
    # FOR NO KEY UPDATE serialises debits as FOR UPDATE would, without blocking inserts that merely
    # reference the profile (its foreign keys take KEY SHARE locks).
    return db.session.scalar(
        select(Profile).where(Profile.id == profile_id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )


def _period(profile, today):
    """The current period row, locked and re-read so its counts are the committed ones."""
    row = current_period(profile, today)
    return db.session.scalar(
        select(SmsCredit).where(SmsCredit.id == row.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )


def balance(profile, today=None):
    """What the profile can still send this period, and when monthly credits reset."""
    period = current_period(profile, today or utcnow().date())
    left = period.credits_total - period.credits_used
    return Balance(period.credits_total, period.credits_used, left, profile.purchased_sms_credits,
                   left + profile.purchased_sms_credits, period.period_end)


def debit(profile, n, today=None):
    """Take n credits (monthly first); one (source, period_id) per message, or NotEnoughCredits."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number of at least 1, got {n!r}")
    profile = lock_profile(profile.id)
    period = _period(profile, today or utcnow().date())
    monthly_left = period.credits_total - period.credits_used
    if n > monthly_left + profile.purchased_sms_credits:
        raise NotEnoughCredits(n, monthly_left + profile.purchased_sms_credits)
    from_monthly = min(n, monthly_left)
    period.credits_used += from_monthly
    profile.purchased_sms_credits -= n - from_monthly
    db.session.flush()
    return [("monthly", period.id)] * from_monthly + [("purchased", None)] * (n - from_monthly)


def refund(message_id):
    """Give a message's credit back to where it came from; True only the first time."""
    claimed = db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.refunded_at.is_(None),
               SmsMessage.credit_source.is_not(None))
        .values(refunded_at=utcnow())
        .returning(SmsMessage.credit_source, SmsMessage.credit_period_id, SmsMessage.profile_id)
    ).first()
    if claimed is None:
        return False
    source, period_id, profile_id = claimed
    if source == "monthly" and period_id is not None:
        db.session.execute(update(SmsCredit).where(SmsCredit.id == period_id, SmsCredit.credits_used > 0)
                           .values(credits_used=SmsCredit.credits_used - 1))
    elif source == "purchased" and profile_id is not None:
        db.session.execute(update(Profile).where(Profile.id == profile_id)
                           .values(purchased_sms_credits=Profile.purchased_sms_credits + 1))
    return True
