"""Signed callbacks from outside services; the only views exempt from CSRF, because the signature replaces it."""
from flask import abort, current_app, request
import stripe
from twilio.request_validator import RequestValidator

from coretet.blueprints.webhooks import bp
from coretet.extensions import csrf
from coretet.services import billing, stripe_gateway
from coretet.services.delivery import apply_status

# How old a signed Stripe event may be; older ones are refused as replays.
STRIPE_TOLERANCE_SECONDS = 300


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


@bp.post("/webhooks/stripe")
@csrf.exempt
def stripe_events():
    """Stripe's events: the signature is checked on the raw body before anything is parsed."""
    payload = request.get_data(cache=False)
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature", ""),
            current_app.config.get("STRIPE_WEBHOOK_SECRET") or "", tolerance=STRIPE_TOLERANCE_SECONDS,
        )
    except (ValueError, stripe.SignatureVerificationError):
        abort(400)
    try:
        client = stripe_gateway.client(current_app.config)
        billing.apply_event(client, event)
    except (billing.StripeUnreachable, stripe_gateway.BillingUnavailable):
        # Not marked as applied: Stripe delivers it again and we retry then.
        return "", 503
    return "", 200
