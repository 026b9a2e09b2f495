"""Outside services stand-ins: the dev outbox, and the real Twilio SDK against a local fake API."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

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


class FakeTwilio(BaseHTTPRequestHandler):
    """Answers the Messages API like Twilio does, from a script of responses."""

    script = []
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        FakeTwilio.received.append((self.path, parse_qs(body), self.headers.get("Authorization")))
        status, payload = FakeTwilio.script.pop(0)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_twilio():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeTwilio.script, FakeTwilio.received = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _backend(base):
    return TwilioSms("AC" + "1" * 32, "token", messaging_service_sid="MG" + "2" * 32, api_base=base)


def test_twilio_backend_sends_through_the_sdk(fake_twilio):
    FakeTwilio.script.append((201, {"sid": "SM" + "a" * 32, "status": "queued"}))
    result = _backend(fake_twilio).send("+12015550123", "hello", status_callback="https://x.test/cb")
    assert result.sid == "SM" + "a" * 32 and result.status == "queued"
    path, form, auth = FakeTwilio.received[0]
    assert path == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert form["To"] == ["+12015550123"] and form["Body"] == ["hello"]
    assert form["MessagingServiceSid"] == ["MG" + "2" * 32]
    assert form["StatusCallback"] == ["https://x.test/cb"]
    assert auth.startswith("Basic ")


def test_invalid_number_is_a_permanent_failure(fake_twilio):
    FakeTwilio.script.append((400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}))
    with pytest.raises(SmsError) as failure:
        _backend(fake_twilio).send("+12015550123", "hello")
    assert failure.value.permanent and failure.value.code == 21211


def test_server_error_is_transient(fake_twilio):
    FakeTwilio.script.append((503, {"code": 20500, "message": "Service unavailable", "status": 503}))
    with pytest.raises(SmsError) as failure:
        _backend(fake_twilio).send("+12015550123", "hello")
    assert not failure.value.permanent


def test_twilio_backend_refuses_to_start_without_credentials():
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        TwilioSms(None, None)
