"""Band subscriptions and credit packs through Stripe Checkout, and the webhook events that apply them.

Functions here take a StripeClient and plain values, never Flask objects.
Webhook handling follows three rules:

* each event applies once: its id is inserted into stripe_events in the same
  transaction as its effects, so a duplicate (even a concurrent one, which
  waits on the primary key) finds the row and changes nothing;
* order does not matter: subscription effects come from re-reading the
  subscription from Stripe, never from the event's snapshot, so a late
  `updated` after `deleted` re-reads "canceled" and the account stays free;
* effects are idempotent on their own too: credits are topped up to the
  allowance (not added), and a pack is credited once per Checkout Session.
"""
import logging
import uuid

import stripe
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from coretet.extensions import db
from coretet.models import Band, BandMember, Profile, SmsCreditPurchase, StripeEvent, utcnow
from coretet.services import tiers
from coretet.services.credits import current_period
from coretet.services.sms_credits import lock_profile
from coretet.services.stripe_gateway import BillingUnavailable
from coretet.services.workspaces import Forbidden

log = logging.getLogger(__name__)

# Stripe statuses that keep the Band tier: past_due keeps it while Stripe retries the card.
ENTITLED = ("active", "trialing", "past_due")
# Statuses shown as "fix your payment" on every page.
NEEDS_PAYMENT_FIX = ("past_due", "unpaid")


class StripeUnreachable(Exception):
    """Stripe could not be asked for the current state; the webhook should be retried."""


# -- Checkout ---------------------------------------------------------------------------


def _stripe_call(action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except stripe.StripeError as exc:
        log.warning("Stripe call failed: %s", exc)
        raise BillingUnavailable("We couldn't reach our payment provider. Nothing was charged; "
                                 "please try again in a minute.") from exc


def ensure_customer(client, profile):
    """The profile's Stripe customer id, creating the customer (and saving its id) the first time.

    Creating it before Checkout lets subscription events that arrive before
    `checkout.session.completed` still find the account by customer id.
    """
    if profile.stripe_customer_id:
        return profile.stripe_customer_id
    customer = _stripe_call(client.v1.customers.create, params={
        "email": profile.email, "name": profile.name, "metadata": {"profile_id": str(profile.id)},
    }, options={"idempotency_key": f"customer-{profile.id}"})
    profile.stripe_customer_id = customer.id
    db.session.commit()
    return customer.id


def can_start_band_checkout(profile):
    """Refuse a second subscription for someone who already has Band (or Producer)."""
    if profile.tier != "free":
        return tiers.Decision(False, f"You're already on the {tiers.get_tier(profile.tier).name} plan.")
    return tiers.Decision(True)


def start_band_checkout(client, catalogue, profile, success_url, cancel_url):
    """A Checkout Session for the Band subscription; returns the URL to send the browser to.

    The first month costs $5 through a once-only coupon, given only to accounts
    that never had a subscription, so cancelling and re-subscribing pays $10.
    """
    decision = can_start_band_checkout(profile)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if not catalogue.band_price:
        raise BillingUnavailable("The Band plan isn't set up on this server yet (run `flask stripe setup`).")
    customer = ensure_customer(client, profile)
    params = {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": str(profile.id),
        "line_items": [{"price": catalogue.band_price, "quantity": 1}],
        "metadata": {"profile_id": str(profile.id), "kind": "band"},
        "subscription_data": {"metadata": {"profile_id": str(profile.id)}},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if catalogue.intro_coupon and not profile.stripe_subscription_id:
        params["discounts"] = [{"coupon": catalogue.intro_coupon}]
    session = _stripe_call(client.v1.checkout.sessions.create, params=params)
    return session.url


def start_pack_checkout(client, catalogue, profile, pack_key, success_url, cancel_url):
    """A one-time Checkout payment for a credit pack; returns the URL to send the browser to."""
    pack = tiers.get_credit_pack(pack_key)
    price = catalogue.pack_price(pack.key)
    customer = ensure_customer(client, profile)
    session = _stripe_call(client.v1.checkout.sessions.create, params={
        "mode": "payment",
        "customer": customer,
        "client_reference_id": str(profile.id),
        "line_items": [{"price": price, "quantity": 1}],
        "metadata": {"profile_id": str(profile.id), "kind": "pack", "pack": pack.key},
        "success_url": success_url,
        "cancel_url": cancel_url,
    })
    return session.url


def portal_url(client, profile, return_url):
    """A Stripe customer portal session where the user fixes their card or cancels."""
    if not profile.stripe_customer_id:
        raise Forbidden("There is no payment method on file for this account yet.")
    portal = _stripe_call(client.v1.billing_portal.sessions.create, params={
        "customer": profile.stripe_customer_id, "return_url": return_url,
    })
    return portal.url


def checkout_done(profile, session_id, kind):
    """Whether the webhook for this Checkout has been applied: what the success page polls."""
    if kind == "pack":
        return db.session.scalar(select(SmsCreditPurchase.id).where(
            SmsCreditPurchase.stripe_checkout_session_id == session_id,
            SmsCreditPurchase.profile_id == profile.id)) is not None
    return profile.tier != "free" and profile.subscription_status in ENTITLED


# -- Tier changes -----------------------------------------------------------------------


def owned_bands(profile_id):
    return select(Band.id).join(BandMember, BandMember.band_id == Band.id).where(
        BandMember.profile_id == profile_id, BandMember.role == "owner")


def upgrade(profile, today=None):
    """Band tier now: limits raised, owned bands writable, this period's credits topped up to 50."""
    band = tiers.get_tier("band")
    profile.tier = "band"
    profile.storage_limit = max(profile.storage_limit, band.personal_storage_bytes)
    db.session.execute(update(Band).where(Band.id.in_(owned_bands(profile.id))).values(read_only=False)
                       .execution_options(synchronize_session=False))
    period = current_period(profile, today)
    if period.credits_total < band.sms_credits_per_month:
        period.credits_total = band.sms_credits_per_month


def downgrade(profile):
    """Free tier now: personal limit back to 1 GiB and owned bands read-only. Nothing is deleted,
    active shares keep working until they expire, and this period's credits stay as they are
    (the smaller allowance starts next period)."""
    profile.tier = "free"
    profile.storage_limit = tiers.get_tier("free").personal_storage_bytes
    db.session.execute(update(Band).where(Band.id.in_(owned_bands(profile.id))).values(read_only=True)
                       .execution_options(synchronize_session=False))


def apply_subscription(profile, subscription, today=None):
    """Bring the account in line with a subscription's current state; returns what changed."""
    if profile.tier == "producer":
        return "producer accounts are managed by hand"
    sub_id, status = subscription["id"], subscription["status"]
    current = profile.stripe_subscription_id
    if current and current != sub_id and profile.subscription_status in ENTITLED and status not in ENTITLED:
        return f"ignored: {sub_id} is not the account's current subscription"
    profile.stripe_subscription_id = sub_id
    profile.subscription_status = status
    if status in ENTITLED and profile.tier == "free":
        upgrade(profile, today)
        return f"upgraded to band ({status})"
    if status not in ENTITLED and profile.tier == "band":
        downgrade(profile)
        return f"downgraded to free ({status})"
    return f"status {status}"


def add_pack(profile, session):
    """Credit a paid pack once per Checkout Session."""
    pack = tiers.get_credit_pack((session.get("metadata") or {}).get("pack"))
    exists = db.session.scalar(select(SmsCreditPurchase.id).where(
        SmsCreditPurchase.stripe_checkout_session_id == session["id"]))
    if exists:
        return "pack already credited"
    db.session.add(SmsCreditPurchase(profile_id=profile.id, pack=pack.key, credits=pack.credits,
                                     amount_cents=pack.price_cents, stripe_checkout_session_id=session["id"]))
    db.session.execute(update(Profile).where(Profile.id == profile.id)
                       .values(purchased_sms_credits=Profile.purchased_sms_credits + pack.credits)
                       .execution_options(synchronize_session=False))
    db.session.refresh(profile)
    return f"added {pack.credits} credits"


# -- Webhooks ---------------------------------------------------------------------------


def _profile_for(obj):
    """The account an event object belongs to: our profile id in metadata, else the customer id."""
    raw = (obj.get("metadata") or {}).get("profile_id") or obj.get("client_reference_id")
    profile_id = None
    if raw:
        try:
            profile_id = uuid.UUID(str(raw))
        except ValueError:
            profile_id = None
    if profile_id is None and obj.get("customer"):
        profile_id = db.session.scalar(select(Profile.id).where(Profile.stripe_customer_id == obj["customer"]))
    return lock_profile(profile_id) if profile_id else None


def _retrieve_subscription(client, subscription_id):
    try:
        return client.v1.subscriptions.retrieve(subscription_id).to_dict()
    except stripe.StripeError as exc:
        raise StripeUnreachable(f"could not re-read subscription {subscription_id}: {exc}") from exc


def _checkout_completed(client, session, today):
    profile = _profile_for(session)
    if profile is None:
        return "no matching account"
    if session.get("customer") and not profile.stripe_customer_id:
        profile.stripe_customer_id = session["customer"]
    mode, paid = session.get("mode"), session.get("payment_status")
    if mode == "subscription" and session.get("subscription"):
        return apply_subscription(profile, _retrieve_subscription(client, session["subscription"]), today)
    if mode == "payment" and paid == "paid":
        return add_pack(profile, session)
    return f"nothing to do ({mode}, {paid})"


def _subscription_changed(client, subscription, today):
    profile = _profile_for(subscription)
    if profile is None:
        return "no matching account"
    return apply_subscription(profile, _retrieve_subscription(client, subscription["id"]), today)


def _payment_failed(client, invoice, today):
    subscription_id = invoice.get("subscription") or _invoice_subscription(invoice)
    if not subscription_id:
        return "invoice has no subscription"
    subscription = _retrieve_subscription(client, subscription_id)
    profile = _profile_for(subscription) or _profile_for(invoice)
    if profile is None:
        return "no matching account"
    return apply_subscription(profile, subscription, today)


def _invoice_subscription(invoice):
    """Newer API versions move the subscription id under parent.subscription_details."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription")


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.payment_failed": _payment_failed,
}


def apply_event(client, event, today=None):
    """Apply one verified event exactly once and commit; returns the stored result text.

    Raises StripeUnreachable (after rolling back, so the event is not marked)
    when Stripe cannot be asked for current state: the caller answers 5xx and
    Stripe delivers the event again later.
    """
    # The event row is the transaction's first write (on PostgreSQL a concurrent duplicate waits
    # here on the primary key, then fails); nothing else is pending, so a full rollback is safe.
    record = StripeEvent(id=event.id, type=event.type)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate: already applied"
    handler = HANDLERS.get(event.type)
    try:
        with db.session.begin_nested():  # a handler that fails leaves none of its changes behind
            result = handler(client, event.data.object.to_dict(), today) if handler else "ignored"
    except StripeUnreachable:
        db.session.rollback()
        raise
    except (ValueError, KeyError, AttributeError) as exc:
        # A malformed object for a known type: record it rather than retry forever.
        log.warning("Stripe event %s (%s) could not be applied: %s", event.id, event.type, exc)
        result = f"error: {exc}"[:255]
    record.result, record.applied_at = result[:255], utcnow()
    db.session.commit()
    return result
