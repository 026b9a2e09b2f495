"""Sending one SMS: through Twilio's Messages API, or into the local outbox."""
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from coretet.services import outbox

# Twilio error codes that will not succeed on retry (number invalid, opted out, unreachable...).
PERMANENT_ERROR_CODES = frozenset({
    21211,  # invalid 'To' number
    21214,  # 'To' number cannot be reached
    21217,  # phone number does not appear to be valid
    21407,  # not supported for this destination
    21408,  # permission not enabled for the region
    21610,  # recipient unsubscribed (replied STOP)
    21612,  # cannot route to this number
    21614,  # 'To' is not a mobile number
    21635,  # 'To' cannot receive SMS
    30003, 30005, 30006, 30007, 30008,  # unreachable, unknown, landline, filtered, unknown error
})


class SmsError(Exception):
    """Sending failed; `permanent` says whether a retry could help."""

    def __init__(self, message, code=None, permanent=False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class OutboxSms:
    """Development backend: the text lands in a folder shown at /dev/outbox."""

    name = "outbox"

    def __init__(self, outbox_dir):
        self.outbox_dir = outbox_dir

    def send(self, to, body, status_callback=None):
        message_id = outbox.write(self.outbox_dir, "sms", {"to": to, "body": body})
        return SendResult(sid=f"OB{message_id}", status="sent")

    def find_sent(self, to, body, since):
        """The id of this exact text to this number sent at or after `since`, if there is one."""
        for record in outbox.read(self.outbox_dir, "sms", limit=1000):
            if record["to"] == to and record["body"] == body and record["at"] >= since.isoformat():
                return f"OB{record['id']}"
        return None


class TwilioSms:
    """Production backend: Twilio's Messages API through the official SDK."""

    name = "twilio"

    def __init__(self, account_sid, auth_token, messaging_service_sid=None, from_number=None,
                 api_base=None, timeout=10):
        from twilio.rest import Client

        if not (account_sid and auth_token and (messaging_service_sid or from_number)):
            raise ValueError(
                "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"
            )
        self.client = Client(account_sid, auth_token, http_client=_http_client(api_base, timeout))
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number

    def send(self, to, body, status_callback=None):
        from twilio.base.exceptions import TwilioException, TwilioRestException

        sender = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid else {"from_": self.from_number}
        )
        extra = {"status_callback": status_callback} if status_callback else {}
        try:
            message = self.client.messages.create(to=to, body=body, **sender, **extra)
        except TwilioRestException as exc:
            permanent = exc.code in PERMANENT_ERROR_CODES or (400 <= exc.status < 500 and exc.status != 429)
            raise SmsError(str(exc.msg)[:255], code=exc.code, permanent=permanent) from exc
        except (TwilioException, OSError) as exc:
            raise SmsError(f"Twilio could not be reached: {type(exc).__name__}") from exc
        return SendResult(sid=message.sid, status=message.status or "queued")

    def find_sent(self, to, body, since):
        """Ask Twilio whether this exact text already went to this number (after a worker died)."""
        from twilio.base.exceptions import TwilioException

        try:
            for message in self.client.messages.list(to=to, date_sent_after=since, limit=50):
                if message.body == body:
                    return message.sid
        except (TwilioException, OSError) as exc:
            raise SmsError(f"Twilio could not be reached: {type(exc).__name__}") from exc
        return None


def _http_client(api_base, timeout):
    """The SDK's own HTTP client, optionally pointed at another host (a local fake in tests)."""
    from twilio.http.http_client import TwilioHttpClient

    if not api_base:
        return TwilioHttpClient(timeout=timeout)
    base = urlsplit(api_base)

    class RedirectedHttpClient(TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            parts = urlsplit(url)
            url = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))
            return super().request(method, url, *args, **kwargs)

    return RedirectedHttpClient(timeout=timeout)


def backend_from_config(config):
    """The SMS backend named by SMS_BACKEND."""
    if config["SMS_BACKEND"] == "twilio":
        return TwilioSms(
            config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_MESSAGING_SERVICE_SID"], config["TWILIO_FROM_NUMBER"],
            api_base=config.get("TWILIO_API_BASE"),
        )
    if config["SMS_BACKEND"] == "outbox":
        return OutboxSms(config["OUTBOX_DIR"])
    raise ValueError(f"Unknown SMS_BACKEND {config['SMS_BACKEND']!r} (use 'outbox' or 'twilio')")
