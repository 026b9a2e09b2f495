"""Phone verification codes: SPEC §2 rules, with the local backend and Twilio Verify (faked locally)."""
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from coretet.extensions import db
from coretet.models import PhoneVerification, SmsMessage, utcnow
from coretet.services import codes, outbox
from coretet.services.keys import keys_from_config
from coretet.services.verification import (
    LocalVerifier, TwilioVerifier, VerificationError, verifier_from_config,
)
from tests.factories import make_profile

PHONE = "+14155550123"
OTHER_PHONE = "+14155550199"
SERVICE_SID = "VA" + "3" * 32


class Clock:
    """A settable `now` for the verifier."""

    def __init__(self):
        self.at = utcnow()

    def __call__(self):
        return self.at

    def advance(self, **delta):
        self.at += timedelta(**delta)


@pytest.fixture
def keys(app):
    return keys_from_config(app.config)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def verifier(keys, clock):
    return LocalVerifier(keys, now=clock)


def send_and_read_code(app, verifier, phone=PHONE):
    """Send a code, commit (the SMS job runs then) and read the code from the newest outbox text."""
    verifier.send(phone)
    db.session.commit()
    body = outbox.read(app.config["OUTBOX_DIR"], "sms")[0]["body"]
    return re.search(r"\b(\d{6})\b", body).group(1)


def refusal(verifier, code, phone=PHONE):
    with pytest.raises(VerificationError) as failure:
        verifier.check(phone, code)
    return failure.value


def wrong_code(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_sent_code_arrives_by_sms_and_verifies(app, verifier, clock):
    profile = make_profile()
    receipt = verifier.send(PHONE, profile_id=profile.id)
    assert receipt.sent_at == clock.at and receipt.sends_left == 2
    assert receipt.resend_available_at == clock.at + timedelta(seconds=30)
    db.session.commit()

    [message] = outbox.read(app.config["OUTBOX_DIR"], "sms")
    assert message["to"] == PHONE
    code = re.fullmatch(r"CoreTet: your code is (\d{6})\. It expires in 10 minutes\.", message["body"]).group(1)
    assert len(message["body"]) < 160 and message["body"].isascii()
    sms = db.session.scalars(select(SmsMessage)).one()
    assert (sms.purpose, sms.status, sms.profile_id) == ("phone_verification", "sent", profile.id)

    verifier.check(PHONE, f"{code[:3]} {code[3:]}")
    db.session.commit()
    row = db.session.scalars(select(PhoneVerification)).one()
    assert row.consumed_at is not None and row.attempts == 1


def test_database_never_holds_the_code_in_clear(app, verifier):
    code = send_and_read_code(app, verifier)
    for table in ("phone_verifications", "sms_messages"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            assert all(code not in str(value) for value in row), f"{table} holds the code"


def test_wrong_code_is_refused_and_the_attempt_survives_a_rollback(app, verifier):
    code = send_and_read_code(app, verifier)
    error = refusal(verifier, wrong_code(code))
    assert (error.reason, error.attempts_left) == ("wrong", 4)
    assert error.message == "That code is not right. 4 attempts left."
    db.session.rollback()
    assert db.session.scalars(select(PhoneVerification)).one().attempts == 1
    assert refusal(verifier, "12ab56").attempts_left == 3, "any input counts as a check"


def test_expired_code_is_refused(app, verifier, clock):
    code = send_and_read_code(app, verifier)
    clock.advance(minutes=10)
    error = refusal(verifier, code)
    assert error.reason == "expired"
    assert error.message == "That code has expired. Ask for a new one."


def test_code_works_only_once(app, verifier):
    assert refusal(verifier, "123456").reason == "no_code"
    code = send_and_read_code(app, verifier)
    verifier.check(PHONE, code)
    db.session.commit()
    error = refusal(verifier, code)
    assert (error.reason, error.message) == ("no_code", "Ask for a code first.")


def test_sixth_check_is_refused_even_with_the_right_code(app, verifier):
    code = send_and_read_code(app, verifier)
    for left in (4, 3, 2, 1):
        assert refusal(verifier, wrong_code(code)).attempts_left == left
    fifth = refusal(verifier, wrong_code(code))
    assert (fifth.reason, fifth.attempts_left) == ("too_many_attempts", 0)
    assert fifth.message == "Too many attempts. Ask for a new code."
    assert refusal(verifier, code).reason == "too_many_attempts"
    assert db.session.scalars(select(PhoneVerification)).one().attempts == 5


def test_parallel_checks_use_a_code_once(pg_app):
    keys = keys_from_config(pg_app.config)
    code = send_and_read_code(pg_app, LocalVerifier(keys))
    start, results = threading.Barrier(2), []

    def check():
        with pg_app.app_context():
            start.wait()
            try:
                LocalVerifier(keys).check(PHONE, code)
                db.session.commit()
                results.append("ok")
            except VerificationError as error:
                results.append(error.reason)

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["no_code", "ok"]


def test_a_new_code_replaces_the_old_one(app, verifier, monkeypatch):
    fresh = iter(["111111", "222222"])
    monkeypatch.setattr(codes, "generate_numeric_code", lambda digits: next(fresh))
    verifier.send(PHONE)
    verifier.send(PHONE)
    db.session.commit()
    assert refusal(verifier, "111111").reason == "wrong"
    verifier.check(PHONE, "222222")


def test_fourth_send_in_ten_minutes_is_refused_until_the_window_moves(app, verifier, clock):
    first_at = clock.at
    assert verifier.send(PHONE).sends_left == 2
    clock.advance(minutes=2)
    assert verifier.send(PHONE).sends_left == 1
    clock.advance(minutes=2)
    last = verifier.send(PHONE)
    assert last.sends_left == 0 and last.resend_available_at == first_at + timedelta(minutes=10)
    db.session.commit()

    clock.advance(minutes=5)
    with pytest.raises(VerificationError) as failure:
        verifier.send(PHONE)
    assert failure.value.reason == "too_many_sends"
    assert failure.value.retry_at == first_at + timedelta(minutes=10)
    assert "Try again in 1 minute." in failure.value.message
    assert verifier.send(OTHER_PHONE).sends_left == 2, "the limit is per number"

    clock.at = failure.value.retry_at
    assert verifier.send(PHONE).sends_left == 0
    db.session.commit()
    assert len(outbox.read(app.config["OUTBOX_DIR"], "sms")) == 5


def test_verifier_comes_from_config(app, keys):
    assert isinstance(verifier_from_config({"VERIFY_BACKEND": "local"}, keys), LocalVerifier)
    with pytest.raises(ValueError, match="TWILIO_VERIFY_SERVICE_SID"):
        verifier_from_config({"VERIFY_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC1"}, keys)
    with pytest.raises(ValueError, match="VERIFY_BACKEND"):
        verifier_from_config({"VERIFY_BACKEND": "carrier-pigeon"}, keys)


@pytest.fixture
def twilio(keys, clock, fake_api):
    return TwilioVerifier(keys, "AC" + "1" * 32, "token", SERVICE_SID, api_base=fake_api.url, now=clock)


def pending():
    return 201, {"sid": "VE" + "a" * 32, "service_sid": SERVICE_SID, "to": PHONE,
                 "channel": "sms", "status": "pending"}


def checked(status):
    return 200, {"sid": "VE" + "a" * 32, "service_sid": SERVICE_SID, "to": PHONE, "status": status}


def test_twilio_send_posts_to_verify_and_records_the_send(app, twilio, fake_api):
    fake_api.script.append(pending())
    assert twilio.send(PHONE).sends_left == 2
    db.session.commit()
    _, path, form, _ = fake_api.received[0]
    assert path == f"/v2/Services/{SERVICE_SID}/Verifications"
    assert form["To"] == [PHONE] and form["Channel"] == ["sms"]
    assert db.session.scalars(select(PhoneVerification)).one().code_hash == "twilio-verify"
    assert outbox.read(app.config["OUTBOX_DIR"], "sms") == [], "Twilio texts the code itself"


def test_twilio_pending_is_a_wrong_code_and_approved_verifies(app, twilio, fake_api):
    fake_api.script += [pending(), checked("pending"), checked("approved")]
    twilio.send(PHONE)
    db.session.commit()
    error = refusal(twilio, "111111")
    assert (error.reason, error.attempts_left) == ("wrong", 4)
    twilio.check(PHONE, "222222")
    db.session.commit()
    _, path, form, _ = fake_api.received[-1]
    assert path == f"/v2/Services/{SERVICE_SID}/VerificationCheck"
    assert form["To"] == [PHONE] and form["Code"] == ["222222"]
    assert refusal(twilio, "222222").reason == "no_code"


def test_twilio_not_found_means_expired(app, twilio, fake_api):
    fake_api.script += [pending(), (404, {"code": 20404, "message": "Not found", "status": 404})]
    twilio.send(PHONE)
    db.session.commit()
    assert refusal(twilio, "123456").reason == "expired"
    assert refusal(twilio, "123456").reason == "expired", "answered without asking Twilio again"
    assert len(fake_api.received) == 2


def test_twilio_send_limit_maps_to_too_many_sends(app, twilio, clock, fake_api):
    fake_api.script.append((429, {"code": 60203, "message": "Max send attempts reached", "status": 429}))
    with pytest.raises(VerificationError) as failure:
        twilio.send(PHONE)
    assert failure.value.reason == "too_many_sends" and failure.value.retry_at > clock.at


def test_twilio_backend_keeps_the_local_limits(app, twilio, fake_api):
    fake_api.script += [pending(), pending(), pending()] + [checked("pending")] * 5
    for _ in range(3):
        twilio.send(PHONE)
    db.session.commit()
    with pytest.raises(VerificationError, match="Try again"):
        twilio.send(PHONE)
    for _ in range(5):
        refusal(twilio, "111111")
    assert refusal(twilio, "222222").reason == "too_many_attempts"
    assert len(fake_api.received) == 8, "refused sends and checks never reach Twilio"
