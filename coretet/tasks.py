"""RQ jobs. Each takes ids, reloads its rows, and is safe to run twice."""
import logging
import uuid

from flask import current_app

from coretet.extensions import db
from coretet.models import SmsMessage, utcnow
from coretet.services import messaging
from coretet.services.keys import keys_from_config
from coretet.services.sms import SmsError, backend_from_config

log = logging.getLogger(__name__)


class TransientSendError(Exception):
    """Raised so RQ retries the job later."""


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
        message.error_message = str(exc)[:255]
        if exc.permanent:
            message.status, message.failed_at, message.body_encrypted = "failed", utcnow(), None
            db.session.commit()
            return
        message.status = "queued"  # back in line; RQ's retry runs the job again
        db.session.commit()
        raise TransientSendError(str(exc)) from exc
    message.provider_sid = result.sid
    message.status, message.sent_at = "sent", utcnow()
    message.body_encrypted = None  # the text holds a code; keep it no longer than needed
    db.session.commit()
