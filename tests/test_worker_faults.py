"""A worker killed mid-job loses no message and sends none twice (QUALITY: worker faults)."""
from datetime import timedelta

from sqlalchemy import update

from coretet.extensions import db
from coretet.models import SmsMessage, utcnow
from coretet.services import messaging, outbox
from coretet.services.keys import keys_from_config
from coretet.services.sms import backend_from_config
from coretet.tasks import deliver_sms, recover_stuck_sms


def _queue(app):
    """A queued text whose job has not run (the commit's in-process job is suppressed)."""
    message = messaging.queue_sms(keys_from_config(app.config), "+12015550123", "Code A7K9M2", "share_code")
    db.session.info.pop("coretet_pending_jobs", None)
    db.session.commit()
    return message


def _age(message):
    db.session.execute(update(SmsMessage).where(SmsMessage.id == message.id)
                       .values(sending_started_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()


def texts(app):
    return outbox.read(app.config["OUTBOX_DIR"], "sms")


def test_a_worker_that_died_after_the_provider_accepted_is_not_sent_again(app):
    message = _queue(app)
    assert messaging.claim_for_sending(message.id)
    # The provider takes the text, then the worker dies before recording it.
    backend_from_config(app.config).send("+12015550123", "Code A7K9M2")
    _age(message)
    assert recover_stuck_sms() == {"recorded": 1, "requeued": 0}
    db.session.expire_all()
    row = db.session.get(SmsMessage, message.id)
    assert row.status == "sent" and row.provider_sid.startswith("OB") and row.body_encrypted is None
    assert len(texts(app)) == 1


def test_a_worker_that_died_before_sending_gets_the_text_sent_once(app):
    message = _queue(app)
    assert messaging.claim_for_sending(message.id)
    _age(message)
    assert recover_stuck_sms() == {"recorded": 0, "requeued": 1}
    db.session.expire_all()
    assert db.session.get(SmsMessage, message.id).status == "sent"
    assert len(texts(app)) == 1
    deliver_sms(str(message.id))  # a late duplicate of the original job
    assert len(texts(app)) == 1


def test_a_send_still_in_progress_is_left_alone(app):
    message = _queue(app)
    assert messaging.claim_for_sending(message.id)
    assert recover_stuck_sms() == {"recorded": 0, "requeued": 0}
    assert texts(app) == []


def test_running_the_job_twice_sends_once(app):
    message = _queue(app)
    deliver_sms(str(message.id))
    deliver_sms(str(message.id))
    assert len(texts(app)) == 1
