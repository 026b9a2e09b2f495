"""Sending shares for real: RQ worker -> twilio SDK -> local fake Twilio; then signed status callbacks."""
import logging
import re
import zlib

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from coretet.extensions import db
from coretet.jobs import get_queue, make_worker, redis_connection
from coretet.models import AccessGrant, SmsMessage
from coretet.services import codes, sharing, sms_credits
from coretet.services.keys import keys_from_config
from coretet.services.messaging import plaintext
from coretet.services.workspaces import Workspace
from coretet.tasks import deliver_sms
from tests.conftest import build_app, empty_database
from tests.factories import make_playlist, make_profile, make_track

PHONES = ["+12015550123", "+12015550124"]
SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://coretet.example"


def listen_url(token):
    return f"{PUBLIC}/listen/{token}"


@pytest.fixture
def rq_app(postgres_url, redis_url, tmp_path, fake_api):
    app = build_app(postgres_url, tmp_path, redis_url=redis_url, SMS_BACKEND="twilio",
                    TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN,
                    TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32, TWILIO_API_BASE=fake_api.url)
    with app.app_context():
        redis_connection().flushdb()
        yield app
    empty_database(app)


def share_to(app, phones, owner=None):
    owner = owner or make_profile(name="Alex")
    playlist = make_playlist(owner, tracks=[make_track(owner), make_track(owner)], title="Summer EP Demos")
    recipients = [(phone, None) for phone in phones]
    return sharing.create_share(Workspace(owner), playlist, owner, recipients, 7,
                                keys_from_config(app.config), listen_url)


def work(app):
    make_worker(app, ["sms"], simple=True).work(burst=True)


def messages():
    db.session.expire_all()
    return db.session.scalars(select(SmsMessage).order_by(SmsMessage.created_at)).all()


def redis_dump():
    """Every value in the test Redis database, job payloads decompressed, as one byte string."""
    connection, parts = redis_connection(), []
    for key in connection.keys("*"):
        kind = connection.type(key)
        values = (connection.hvals(key) if kind == b"hash" else connection.lrange(key, 0, -1) if kind == b"list"
                  else connection.zrange(key, 0, -1) if kind == b"zset" else [connection.get(key)] if kind == b"string"
                  else list(connection.smembers(key)))
        for value in values:
            try:
                parts.append(zlib.decompress(value))
            except zlib.error:
                parts.append(value)
    return b" ".join(parts)


def test_share_to_two_numbers_is_sent_once_each_by_the_worker(rq_app, fake_api, caplog):
    result = share_to(rq_app, PHONES)
    queue = get_queue("sms")
    assert queue.count == 2 and all(m.status == "queued" for m in messages())
    assert sorted(job.args for job in queue.jobs) == sorted((str(m.id),) for m in result.messages)
    assert all(job.kwargs == {} for job in queue.jobs)

    fake_api.script += [(201, {"sid": f"SM{n}" + "a" * 31, "status": "queued"}) for n in range(2)]
    with caplog.at_level(logging.DEBUG):
        work(rq_app)

    posts = [r for r in fake_api.received if r.method == "POST" and r.path.endswith("/Messages.json")]
    assert len(posts) == 2 and {p.form["To"][0] for p in posts} == set(PHONES)
    keys = keys_from_config(rq_app.config)
    for post in posts:
        body = post.form["Body"][0]
        assert body.startswith('CoreTet: Alex shared "Summer EP Demos" (2 tracks). Code ')
        assert listen_url(result.share.share_token) in body and len(body) <= 160
        assert post.form["StatusCallback"] == [f"{rq_app.config['APP_BASE_URL']}/webhooks/twilio/status"]
        code = re.search(r"Code ([A-Z2-9]{6}) ", body).group(1)
        assert any(codes.verify_code(code, g.code_hash, keys.code_hmac, g.id)
                   for g in db.session.scalars(select(AccessGrant)))
        assert code not in caplog.text
    sent = messages()
    assert {m.status for m in sent} == {"sent"} and {m.provider_sid for m in sent} == {"SM0" + "a" * 31,
                                                                                       "SM1" + "a" * 31}
    assert all(m.body_encrypted is None and m.attempts == 1 for m in sent)
    assert not [p for p in PHONES if p.lstrip("+") in caplog.text]

    for message in sent:  # the same jobs again, as after a worker crash and redelivery
        queue.enqueue(deliver_sms, str(message.id))
    work(rq_app)
    assert len(fake_api.received) == 2 and [m.attempts for m in messages()] == [1, 1]


def test_queued_jobs_hold_no_phone_number_or_code(rq_app):
    share_to(rq_app, PHONES)
    dump = redis_dump()
    assert dump.count(b"deliver_sms") >= 2, "the scan must see the job payloads"
    keys = keys_from_config(rq_app.config)
    bodies = [plaintext(keys, message)[1] for message in messages()]
    secrets_sent = [p.lstrip("+") for p in PHONES] + [re.search(r"Code (\w{6}) ", b).group(1) for b in bodies]
    assert len(secrets_sent) == 4 and not [s for s in secrets_sent if s.encode() in dump]


def test_invalid_number_fails_permanently_and_refunds_once(rq_app, fake_api):
    owner = make_profile()
    share_to(rq_app, PHONES[:1], owner)
    assert sms_credits.balance(owner).monthly_used == 1
    fake_api.script.append((400, {"code": 21211, "status": 400,
                                  "message": f"The 'To' number {PHONES[0]} is not a valid phone number."}))
    work(rq_app)

    [message] = messages()
    assert (message.status, message.error_code) == ("failed", "21211")
    assert message.refunded_at is not None and message.failed_at is not None and message.body_encrypted is None
    assert PHONES[0].lstrip("+") not in message.error_message
    db.session.expire_all()
    assert sms_credits.balance(owner).monthly_used == 0

    queue = get_queue("sms")
    queue.enqueue(deliver_sms, str(message.id))
    work(rq_app)
    assert not sms_credits.refund(message.id)
    db.session.expire_all()
    assert len(fake_api.received) == 1 and sms_credits.balance(owner).monthly_used == 0


def test_a_transient_error_puts_the_message_back_and_schedules_a_retry(rq_app, fake_api):
    owner = make_profile()
    share_to(rq_app, PHONES[:1], owner)
    fake_api.script.append((503, {"code": 20500, "status": 503,
                                  "message": f"Service unavailable for {PHONES[0]}"}))
    work(rq_app)

    [message] = messages()
    assert (message.status, message.attempts, message.refunded_at) == ("queued", 1, None)
    assert message.body_encrypted is not None, "the text is kept until it is sent"
    queue = get_queue("sms")
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.get_status() == "scheduled" and job.retries_left == 4 and job.args == (str(message.id),)
    assert PHONES[0].lstrip("+").encode() not in redis_dump()
    assert sms_credits.balance(owner).monthly_used == 1

    fake_api.script.append((201, {"sid": "SM" + "c" * 32, "status": "queued"}))
    queue.enqueue_job(job)  # what the scheduler does when the retry is due
    work(rq_app)
    [message] = messages()
    assert (message.status, message.attempts, message.provider_sid) == ("sent", 2, "SM" + "c" * 32)


# Status callbacks --------------------------------------------------------------------------------

CALLBACK = "/webhooks/twilio/status"


@pytest.fixture
def hook_app(app):
    app.config.update(TWILIO_AUTH_TOKEN=TOKEN, APP_BASE_URL=PUBLIC)
    return app


@pytest.fixture
def sent_message(hook_app):
    """A share text the outbox backend has sent; returns (owner, message)."""
    owner = make_profile()
    share_to(hook_app, PHONES[:1], owner)
    [message] = messages()
    assert message.status == "sent" and message.provider_sid
    return owner, message


def post_status(client, params, url=PUBLIC + CALLBACK, sent=None):
    """Post a callback signed for `url` (what Twilio requested) carrying `sent` (default: the signed params)."""
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    path = url[len(PUBLIC):] if url.startswith(PUBLIC) else CALLBACK
    return client.post(path, data=sent or params, headers={"X-Twilio-Signature": signature})


def status(message_sid, value, error=None):
    params = {"MessageSid": message_sid, "MessageStatus": value, "AccountSid": SID}
    return params | ({"ErrorCode": error} if error else {})


def test_a_signed_callback_moves_the_status_forward(client, sent_message):
    _, message = sent_message
    response = post_status(client, status(message.provider_sid, "delivered"))
    assert response.status_code == 204
    [message] = messages()
    assert message.status == "delivered" and message.delivered_at is not None


def test_the_signature_is_checked_against_the_public_url_with_its_query(client, sent_message):
    _, message = sent_message
    params = status(message.provider_sid, "delivered")
    assert post_status(client, params, url="http://localhost" + CALLBACK).status_code == 403
    assert post_status(client, params, url=PUBLIC + CALLBACK + "?attempt=2").status_code == 204


@pytest.mark.parametrize("tamper", [
    lambda p: p | {"MessageStatus": "failed"},
    lambda p: p | {"ErrorCode": "30003"},
    lambda p: p | {"MessageSid": "SM" + "0" * 32},
])
def test_a_tampered_or_unsigned_callback_is_refused_and_changes_nothing(client, sent_message, tamper):
    owner, message = sent_message
    params = status(message.provider_sid, "delivered")
    assert post_status(client, params, sent=tamper(params)).status_code == 403
    assert client.post(CALLBACK, data=params).status_code == 403
    assert client.post(CALLBACK, data=params, headers={"X-Twilio-Signature": "bm9wZQ=="}).status_code == 403
    assert messages()[0].status == "sent" and sms_credits.balance(owner).monthly_used == 1


def test_replayed_older_statuses_never_move_backwards(client, sent_message):
    _, message = sent_message
    for value in ("delivered", "sent", "queued", "sending", "failed"):
        assert post_status(client, status(message.provider_sid, value, "30003")).status_code == 204
    [message] = messages()
    assert message.status == "delivered" and message.refunded_at is None


def test_a_failure_reported_twice_refunds_once(client, sent_message):
    owner, message = sent_message
    assert sms_credits.balance(owner).monthly_used == 1
    for _ in range(2):
        assert post_status(client, status(message.provider_sid, "failed", "30003")).status_code == 204
    assert post_status(client, status(message.provider_sid, "undelivered", "30005")).status_code == 204
    [message] = messages()
    assert (message.status, message.error_code) == ("failed", "30003") and message.refunded_at is not None
    db.session.expire_all()
    assert sms_credits.balance(owner).monthly_used == 0


def test_unknown_messages_and_statuses_are_ignored(client, sent_message):
    _, message = sent_message
    assert post_status(client, status("SM" + "9" * 32, "failed")).status_code == 204
    assert post_status(client, status(message.provider_sid, "exploded")).status_code == 204
    assert messages()[0].status == "sent"
