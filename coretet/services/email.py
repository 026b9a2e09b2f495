"""Sending one email: to the local outbox (development) or the log (console)."""
import logging

from coretet.services import outbox

log = logging.getLogger(__name__)


class OutboxEmail:
    name = "outbox"

    def __init__(self, outbox_dir, sender):
        self.outbox_dir = outbox_dir
        self.sender = sender

    def send(self, to, subject, text):
        return outbox.write(self.outbox_dir, "email", {
            "to": to, "from": self.sender, "subject": subject, "body": text,
        })


class ConsoleEmail:
    name = "console"

    def __init__(self, sender):
        self.sender = sender

    def send(self, to, subject, text):
        log.info("email to %s: %s\n%s", to, subject, text)


def backend_from_config(config):
    if config["EMAIL_BACKEND"] == "outbox":
        return OutboxEmail(config["OUTBOX_DIR"], config["EMAIL_FROM"])
    if config["EMAIL_BACKEND"] == "console":
        return ConsoleEmail(config["EMAIL_FROM"])
    raise ValueError(f"Unknown EMAIL_BACKEND {config['EMAIL_BACKEND']!r} (use 'outbox' or 'console')")
