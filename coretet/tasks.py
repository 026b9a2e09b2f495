"""RQ jobs. Each takes ids, reloads its rows, and is safe to run twice."""
import logging
import re
import uuid

from flask import current_app

from coretet.extensions import db
from coretet.models import SmsMessage, utcnow
from coretet.services import messaging, sms_credits
from coretet.services.keys import keys_from_config
from coretet.services.sms import SmsError, backend_from_config

log = logging.getLogger(__name__)


# Provider error texts can quote the number ("The 'To' number +1415... is not valid").
_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")


class TransientSendError(Exception):
    """Raised so RQ retries the job later."""


def _redact(text):
    return _NUMBER.sub("[number]", text)


def deliver_sms(message_id):
    """Send one queued SMS at most once: claim the row, send, record the outcome."""
    message_id = uuid.UUID(message_id)
    if not messaging.claim_for_sending(message_id):
        log.info("sms %s already claimed or done; not sending again", message_id)
        return
    message = db.session.get(SmsMessage, message_id)
    keys = keys_from_config(current_app.config)
    to, body = messaging.plaintext(keys, message)
    callback = f"{current_app.config['APP_BASE_URL']}/webhooks/twilio/status"
    try:
        result = backend_from_config(current_app.config).send(to, body, status_callback=callback)
    except SmsError as exc:
        message.error_code = str(exc.code) if exc.code else None
        message.error_message = _redact(str(exc))[:255]
        if exc.permanent:
            message.status, message.failed_at, message.body_encrypted = "failed", utcnow(), None
            sms_credits.refund(message.id)  # once only, even if a status callback also reports it
            db.session.commit()
            return
        message.status = "queued"  # back in line; RQ's retry runs the job again
        db.session.commit()
        # `from None`: RQ stores and logs the traceback, and the provider's exception may quote the number.
        raise TransientSendError(_redact(str(exc))) from None
    message.provider_sid = result.sid
    message.status, message.sent_at = "sent", utcnow()
    message.body_encrypted = None  # the text holds a code; keep it no longer than needed
    db.session.commit()


def recover_stuck_sms(older_than_seconds=300):
    """Finish messages a dead worker left in 'sending': record them if the provider has them, else requeue.

    Asking the provider first is what keeps "never two texts for one message row"
    true when a worker died between the provider accepting a text and the row update.
    """
    from datetime import timedelta

    from sqlalchemy import select

    from coretet.jobs import enqueue_after_commit

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stuck = db.session.scalars(
        select(SmsMessage).where(SmsMessage.status == "sending", SmsMessage.sending_started_at < cutoff)
    ).all()
    keys = keys_from_config(current_app.config)
    backend = backend_from_config(current_app.config)
    outcome = {"recorded": 0, "requeued": 0}
    for message in stuck:
        to, body = messaging.plaintext(keys, message)
        sid = backend.find_sent(to, body, since=message.sending_started_at)
        if sid:
            message.provider_sid, message.status, message.sent_at = sid, "sent", utcnow()
            message.body_encrypted = None
            outcome["recorded"] += 1
        else:
            message.status = "queued"
            enqueue_after_commit(db.session, deliver_sms, str(message.id), queue="sms",
                                 retry=messaging.SEND_RETRY)
            outcome["requeued"] += 1
        db.session.commit()
    return outcome
