"""Outbound SMS as rows: queue one text, and move its status only forward."""
from rq import Retry
from sqlalchemy import update

from coretet.extensions import db
from coretet.jobs import enqueue_after_commit
from coretet.models import SmsMessage, utcnow
from coretet.models.messaging import SMS_STATUSES
from coretet.services.phone import blind_index, decrypt_phone, encrypt_phone

# Transient provider errors: try again after 10 s, 30 s, 1, 2 and 5 minutes.
SEND_RETRY = Retry(max=5, interval=[10, 30, 60, 120, 300])
# Terminal outcomes share the last rank: none may replace another.
_RANK = {status: index for index, status in enumerate(SMS_STATUSES)}
for _terminal in ("delivered", "undelivered", "failed", "canceled"):
    _RANK[_terminal] = _RANK["delivered"]


def queue_sms(keys, e164, body, purpose, profile_id=None, grant_id=None, credit=None):
    """Add a message row (number and text encrypted) and send it from a job after the commit."""
    from coretet.tasks import deliver_sms

    message = SmsMessage(
        purpose=purpose, profile_id=profile_id, grant_id=grant_id,
        to_blind_index=blind_index(e164, keys.phone_hmac),
        to_encrypted=encrypt_phone(e164, keys.phone_encryption),
        body_encrypted=encrypt_phone(body, keys.phone_encryption),
        status="queued", queued_at=utcnow(),
        credit_source=credit[0] if credit else None,
        credit_period_id=credit[1] if credit else None,
    )
    db.session.add(message)
    db.session.flush()
    enqueue_after_commit(db.session, deliver_sms, str(message.id), queue="sms", retry=SEND_RETRY)
    return message


def plaintext(keys, message):
    """(number, text) of a message still waiting to be sent."""
    return decrypt_phone(message.to_encrypted, keys.phone_encryption), decrypt_phone(
        message.body_encrypted, keys.phone_encryption
    )


def is_forward(current, new):
    """True when `new` is later than `current` in queued → sent → delivered/undelivered/failed."""
    return _RANK.get(new, -1) > _RANK.get(current, len(_RANK))


def claim_for_sending(message_id):
    """Atomically move a queued message to 'sending'; False if another run already took it."""
    result = db.session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message_id, SmsMessage.status == "queued")
        .values(status="sending", attempts=SmsMessage.attempts + 1, sending_started_at=utcnow())
    )
    db.session.commit()
    return result.rowcount == 1
