"""Delivery reports from the SMS provider: statuses only move forward, and failures refund once."""
from sqlalchemy import select

from coretet.extensions import db
from coretet.models import SmsMessage, utcnow
from coretet.models.messaging import SMS_STATUSES
from coretet.services import sms_credits
from coretet.services.messaging import is_forward

# Twilio statuses with no column of their own, mapped onto ours.
_ALIASES = {"accepted": "queued", "scheduled": "queued", "read": "delivered"}
_FAILED = ("failed", "undelivered")


def apply_status(provider_sid, status, error_code=None):
    """Record a reported status if it moves the message forward; True when something changed."""
    status = _ALIASES.get((status or "").strip().lower(), (status or "").strip().lower())
    if not provider_sid or status not in SMS_STATUSES:
        return False
    # Locked so two reports for one message apply one after the other, never interleaved.
    message = db.session.scalar(
        select(SmsMessage).where(SmsMessage.provider_sid == provider_sid)
        .with_for_update().execution_options(populate_existing=True)
    )
    if message is None or not is_forward(message.status, status):
        db.session.rollback()
        return False
    now = utcnow()
    message.status = status
    if status == "delivered":
        message.delivered_at = now
    elif status in _FAILED:
        message.failed_at = now
        message.error_code = str(error_code)[:16] if error_code else message.error_code
        sms_credits.refund(message.id)
    db.session.commit()
    return True
