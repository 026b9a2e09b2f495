"""RQ jobs. Each takes ids, reloads its rows, and is safe to run twice."""
import logging
import re
import uuid

from flask import current_app
from sqlalchemy import select

from coretet.extensions import db
from coretet.models import SmsMessage, Track, utcnow
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


def analyze_track(track_id):
    """Waveform peaks and loudness of one track, at most once: claim it, measure its file, record the outcome.

    A done track is left alone; a running one is left to its worker unless that worker
    went quiet long ago (it died). Undecodable audio ends as 'failed' with a short
    message; the file and its playback are never touched.
    """
    from coretet.services import analysis
    from coretet.services.filestore import store_from_config

    track_id = uuid.UUID(track_id)
    if not analysis.claim(track_id):
        log.info("track %s: analysis done, running elsewhere or track gone", track_id)
        return
    storage_key = db.session.scalar(select(Track.storage_key).where(Track.id == track_id))
    if storage_key is None:  # deleted since the claim
        return
    try:
        with analysis.local_copy(store_from_config(current_app.config), storage_key) as path:
            result = analysis.analyse(path)
    except analysis.AnalysisError as exc:
        analysis.record_failure(track_id, exc.message)
        return
    except Exception:
        analysis.record_failure(track_id, analysis.UNEXPECTED)
        raise
    analysis.record(track_id, result)


ANALYSIS_JOB_TIMEOUT = 30 * 60  # seconds; analysis.STALE_AFTER must stay longer


def queue_analysis(track_id):
    """Enqueue analyze_track for after the current transaction's commit."""
    from coretet.jobs import enqueue_after_commit

    enqueue_after_commit(db.session, analyze_track, str(track_id), queue="analysis",
                         job_timeout=ANALYSIS_JOB_TIMEOUT)


def requeue_analysis(track_ids=()):
    """Queue analysis for these tracks (reset to pending first), or for every track that needs it; returns the ids."""
    from coretet.services import analysis

    if track_ids:
        analysis.reset(track_ids)
        ids = [uuid.UUID(str(value)) for value in track_ids]
    else:
        ids = analysis.needing_analysis()
    for track_id in ids:
        queue_analysis(track_id)
    db.session.commit()
    return ids
