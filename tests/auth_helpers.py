"""Helpers for driving the auth pages like a browser: CSRF tokens, sign-in, outbox codes."""
import re

from coretet.services import outbox
from tests.factories import PASSWORD


def csrf_from(page):
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if match is None:
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    return match.group(1)


def csrf(client, path="/login"):
    return csrf_from(client.get(path).get_data(as_text=True))


def sign_in(client, email, password=PASSWORD, remember=False):
    data = {"email": email, "password": password, "csrf_token": csrf(client)}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def latest_text(app, to=None):
    texts = outbox.read(app.config["OUTBOX_DIR"], "sms")
    texts = [t for t in texts if to is None or t["to"] == to]
    return texts[0] if texts else None


def latest_code(app, to=None):
    text = latest_text(app, to)
    return re.search(r"\b(\d{6})\b", text["body"]).group(1)


def latest_email(app, to=None):
    emails = [m for m in outbox.read(app.config["OUTBOX_DIR"], "email") if to is None or m["to"] == to]
    return emails[0] if emails else None


def link_in(body):
    return re.search(r"https?://\S+", body).group(0)


def without_csrf(body):
    """A page with its CSRF tokens blanked: tokens carry a timestamp, so two otherwise equal
    responses differ when they fall in different seconds."""
    if isinstance(body, bytes):
        body = body.decode()
    body = re.sub(r'(<meta name="csrf-token" content=")[^"]*(")', r"\1\2", body)

    def blank(tag):
        return re.sub(r'(value=")[^"]*(")', r"\1\2", tag.group(0))

    return re.sub(r'<input[^>]*name="csrf_token"[^>]*>', blank, body)
