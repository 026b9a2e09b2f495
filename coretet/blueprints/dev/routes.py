"""Development-only pages: the SMS and email outbox (never registered in production)."""
import re

from flask import current_app, render_template
from markupsafe import Markup, escape

from coretet.blueprints.dev import bp
from coretet.services import outbox as outbox_store

_URL = re.compile(r"https?://[^\s]+")


def _linkify(text):
    """Escape a message and make its links clickable."""
    parts, last = [], 0
    for match in _URL.finditer(text):
        parts.append(escape(text[last:match.start()]))
        url = escape(match.group(0))
        parts.append(Markup(f'<a href="{url}">{url}</a>'))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@bp.route("/dev/outbox")
def outbox():
    folder = current_app.config["OUTBOX_DIR"]
    return render_template(
        "dev/outbox.html",
        texts=outbox_store.read(folder, "sms"), emails=outbox_store.read(folder, "email"), linkify=_linkify,
    )
