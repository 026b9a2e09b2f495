"""Outside services stand-ins: the dev outbox, and the real Twilio SDK against a local fake API."""
import pytest

from coretet.services.sms import OutboxSms, SmsError, TwilioSms


def test_outbox_text_appears_on_the_dev_page_with_a_clickable_link(client, app):
    OutboxSms(app.config["OUTBOX_DIR"]).send("+12015550123", "Code A7K9M2 https://coretet.test/listen/abc")
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert "+12015550123" in page
    assert '<a href="https://coretet.test/listen/abc">' in page


def test_outbox_escapes_message_text(client, app):
    OutboxSms(app.config["OUTBOX_DIR"]).send("+12015550123", "<script>alert(1)</script>")
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def _backend(base):
    return TwilioSms("AC" + "1" * 32, "token", messaging_service_sid="MG" + "2" * 32, api_base=base)


def test_twilio_backend_sends_through_the_sdk(fake_api):
    fake_api.script.append((201, {"sid": "SM" + "a" * 32, "status": "queued"}))
    result = _backend(fake_api.url).send("+12015550123", "hello", status_callback="https://x.test/cb")
    assert result.sid == "SM" + "a" * 32 and result.status == "queued"
    _, path, form, auth = fake_api.received[0]
    assert path == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert form["To"] == ["+12015550123"] and form["Body"] == ["hello"]
    assert form["MessagingServiceSid"] == ["MG" + "2" * 32]
    assert form["StatusCallback"] == ["https://x.test/cb"]
    assert auth.startswith("Basic ")


def test_invalid_number_is_a_permanent_failure(fake_api):
    fake_api.script.append((400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}))
    with pytest.raises(SmsError) as failure:
        _backend(fake_api.url).send("+12015550123", "hello")
    assert failure.value.permanent and failure.value.code == 21211


def test_server_error_is_transient(fake_api):
    fake_api.script.append((503, {"code": 20500, "message": "Service unavailable", "status": 503}))
    with pytest.raises(SmsError) as failure:
        _backend(fake_api.url).send("+12015550123", "hello")
    assert not failure.value.permanent


def test_twilio_backend_refuses_to_start_without_credentials():
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        TwilioSms(None, None)


def test_twilio_backend_finds_a_text_it_already_sent(fake_api):
    from datetime import datetime, timezone

    sid = "SM" + "b" * 32
    page = {"messages": [{"sid": sid, "body": "Code A7K9M2", "to": "+12015550123", "status": "sent"}],
            "next_page_uri": None, "page": 0, "page_size": 50, "uri": "/x", "first_page_uri": "/x",
            "previous_page_uri": None, "start": 0, "end": 0}
    fake_api.script += [(200, page), (200, dict(page, messages=[]))]
    since = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    backend = _backend(fake_api.url)
    assert backend.find_sent("+12015550123", "Code A7K9M2", since) == sid
    assert backend.find_sent("+12015550123", "Code A7K9M2", since) is None
    method, path, _, _ = fake_api.received[0]
    assert method == "GET" and "/Messages.json" in path and "To=%2B12015550123" in path
