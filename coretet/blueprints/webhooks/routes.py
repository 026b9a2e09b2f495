"""Signed callbacks from outside services; the only views exempt from CSRF, because the signature replaces it."""
from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from coretet.blueprints.webhooks import bp
from coretet.extensions import csrf
from coretet.services.delivery import apply_status


def _public_url():
    """The URL Twilio signed: our public base (a proxy may change the host we see) plus path and query."""
    query = request.query_string.decode("latin-1")
    return current_app.config["APP_BASE_URL"] + request.path + (f"?{query}" if query else "")


@bp.post("/webhooks/twilio/status")
@csrf.exempt
def twilio_status():
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    # The form as a MultiDict, so a repeated (injected) parameter is part of what must match.
    form = request.form
    if not token or not signature or not RequestValidator(token).validate(_public_url(), form, signature):
        abort(403)
    apply_status(form.get("MessageSid"), form.get("MessageStatus"), form.get("ErrorCode"))
    return "", 204
