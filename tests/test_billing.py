"""Billing through the real `stripe` SDK against a local fake Stripe, and signed webhooks (SPEC §7, §8)."""
import html
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import Band, Profile, SmsCredit, SmsCreditPurchase, StripeEvent
from coretet.services import sms_credits, tiers
from coretet.services.credits import current_period
from tests.auth_helpers import csrf, sign_in
from tests.factories import make_band, make_profile, make_track
from tests.fake_stripe import FakeStripe

GIB = 1024**3


@pytest.fixture
def stripe_fake():
    fake = FakeStripe(webhook_secret="whsec_test_secret")
    yield fake
    fake.close()


@pytest.fixture
def billing_app(app, stripe_fake):
    app.config.update(stripe_fake.config())
    return app


@pytest.fixture
def web(billing_app):
    return billing_app.test_client()


def _text(response):
    """The response body as a reader sees it (entities such as &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def signed_in(web, **profile_fields):
    profile = make_profile(**profile_fields)
    sign_in(web, profile.email)
    return profile


def post_form(web, path, **headers):
    return web.post(path, data={"csrf_token": csrf(web, "/plans")}, headers=headers)


def send_event(web, fake, event_type, obj, event_id=None, secret=None, timestamp=None, body=None):
    payload = fake.event(event_type, obj, event_id)
    signature = fake.sign(payload, secret=secret, timestamp=timestamp)
    return web.post("/webhooks/stripe", data=body if body is not None else payload,
                    headers={"Stripe-Signature": signature, "Content-Type": "application/json"})


def reload(profile):
    db.session.expire_all()
    return db.session.get(Profile, profile.id)


def band_checkout(web, fake):
    """Start Band checkout in the app and pay on the fake; returns the completed session."""
    response = post_form(web, "/billing/checkout/band")
    assert response.status_code == 302
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    return fake.complete(session_id)


def public(session):
    return {k: v for k, v in session.items() if k not in ("line_items_sent", "discounts_sent", "subscription_metadata")}


def upgraded(web, fake):
    """A free user who has paid for Band through Checkout and the signed webhook."""
    profile = signed_in(web)
    session = band_checkout(web, fake)
    assert send_event(web, fake, "checkout.session.completed", public(session)).status_code == 200
    return reload(profile), session


# -- Checkout creation ---------------------------------------------------------------------


def test_band_checkout_goes_to_stripe_with_the_band_price_and_first_month_coupon(web, stripe_fake):
    profile = signed_in(web)

    response = post_form(web, "/billing/checkout/band")

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{stripe_fake.url}/checkout/cs_")
    (_, _, customer, auth), (_, path, session, _) = stripe_fake.requests
    assert auth == "Bearer sk_test_fake"
    assert customer["email"] == profile.email and customer["metadata"]["profile_id"] == str(profile.id)
    assert path == "/v1/checkout/sessions"
    assert session["mode"] == "subscription"
    assert session["line_items"] == [{"price": stripe_fake.config()["STRIPE_PRICE_BAND"], "quantity": "1"}]
    assert session["discounts"] == [{"coupon": "coretet-band-intro"}]
    assert session["metadata"] == {"profile_id": str(profile.id), "kind": "band"}
    assert session["success_url"].endswith("/billing/success?kind=band&session_id={CHECKOUT_SESSION_ID}")
    assert session["cancel_url"].endswith("/billing/cancelled?kind=band")
    assert reload(profile).stripe_customer_id == customer_id(stripe_fake)
    assert reload(profile).tier == "free"  # nothing changes until Stripe confirms


def customer_id(fake):
    return next(iter(fake.customers))


def test_the_intro_price_is_only_for_a_first_subscription(web, stripe_fake):
    profile = signed_in(web)
    profile.stripe_subscription_id = "sub_old"
    db.session.commit()

    post_form(web, "/billing/checkout/band")

    session = stripe_fake.requests[-1][2]
    assert "discounts" not in session


def test_a_second_checkout_reuses_the_stripe_customer(web, stripe_fake):
    signed_in(web)
    post_form(web, "/billing/checkout/band")
    post_form(web, "/billing/checkout/band")

    assert len(stripe_fake.customers) == 1
    assert [p for _, p, _, _ in stripe_fake.requests].count("/v1/customers") == 1


def test_band_members_cannot_buy_band_twice(web, stripe_fake):
    signed_in(web, tier="band")

    response = post_form(web, "/billing/checkout/band", **{"HX-Request": "true"})

    assert response.status_code == 403
    assert "already on the Band plan" in _text(response)
    assert stripe_fake.requests == []


@pytest.mark.parametrize("pack,credits", [("pack25", 25), ("pack50", 50), ("pack100", 100)])
def test_credit_pack_checkout_is_a_one_time_payment(web, stripe_fake, pack, credits):
    profile = signed_in(web)

    response = post_form(web, f"/billing/checkout/credits/{pack}")

    assert response.status_code == 302
    session = stripe_fake.requests[-1][2]
    assert session["mode"] == "payment"
    assert session["line_items"] == [{"price": stripe_fake.config()[f"STRIPE_PRICE_{pack.upper()}"], "quantity": "1"}]
    assert session["metadata"] == {"profile_id": str(profile.id), "kind": "pack", "pack": pack}


def test_unknown_pack_is_not_found(web, stripe_fake):
    signed_in(web)
    assert post_form(web, "/billing/checkout/credits/pack7").status_code == 404
    assert stripe_fake.requests == []


def test_checkout_says_so_when_stripe_is_down_and_changes_nothing(web, stripe_fake):
    profile = signed_in(web)
    stripe_fake.fail_next += [(500, "down")] * 3  # the SDK retries twice

    response = post_form(web, "/billing/checkout/band")

    assert response.status_code == 503
    assert "couldn't reach our payment provider" in _text(response)
    assert reload(profile).tier == "free"


def test_checkout_without_stripe_settings_explains_instead_of_failing(web, billing_app, stripe_fake):
    billing_app.config["STRIPE_SECRET_KEY"] = None
    signed_in(web)

    response = post_form(web, "/billing/checkout/band")

    assert response.status_code == 503
    assert "Payments aren't set up on this server yet" in _text(response)


def test_checkout_needs_sign_in_and_csrf(web, stripe_fake):
    anonymous = post_form(web, "/billing/checkout/band")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    signed_in(web)
    assert web.post("/billing/checkout/band").status_code == 400
    assert stripe_fake.requests == []


# -- Webhook signatures --------------------------------------------------------------------


def test_completed_band_checkout_upgrades_the_account(web, stripe_fake):
    profile = signed_in(web)
    period = current_period(profile)
    period.credits_used = 3
    own_band = make_band(profile, read_only=True)
    db.session.commit()
    session = band_checkout(web, stripe_fake)

    response = send_event(web, stripe_fake, "checkout.session.completed", public(session))

    assert response.status_code == 200
    profile = reload(profile)
    assert profile.tier == "band" and profile.subscription_status == "active"
    assert profile.stripe_subscription_id == session["subscription"]
    assert profile.stripe_customer_id == session["customer"]
    assert profile.storage_limit == 25 * GIB
    assert db.session.get(Band, own_band.id).read_only is False
    balance = sms_credits.balance(profile)
    assert (balance.monthly_total, balance.monthly_left) == (50, 47)  # topped up to 50 for this period
    event = db.session.scalar(select(StripeEvent))
    assert event.type == "checkout.session.completed" and event.applied_at is not None
    assert event.result.startswith("upgraded to band")


@pytest.mark.parametrize("tamper", ["wrong secret", "altered body", "stale timestamp", "no signature",
                                    "not json"])
def test_badly_signed_events_are_refused_and_change_nothing(web, stripe_fake, tamper):
    profile = signed_in(web)
    session = public(band_checkout(web, stripe_fake))
    payload = stripe_fake.event("checkout.session.completed", session)
    headers = {"Stripe-Signature": stripe_fake.sign(payload), "Content-Type": "application/json"}
    if tamper == "wrong secret":
        headers["Stripe-Signature"] = stripe_fake.sign(payload, secret="whsec_someone_else")
    elif tamper == "altered body":
        payload = payload.replace('"paid"', '"paid" ')
    elif tamper == "stale timestamp":
        headers["Stripe-Signature"] = stripe_fake.sign(payload, timestamp=int(time.time()) - 600)
    elif tamper == "no signature":
        del headers["Stripe-Signature"]
    else:
        payload = "{not json"
        headers["Stripe-Signature"] = stripe_fake.sign(payload)

    response = web.post("/webhooks/stripe", data=payload, headers=headers)

    assert response.status_code == 400
    assert reload(profile).tier == "free"
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_the_webhook_needs_no_csrf_token_but_nothing_else_is_exempt(web, stripe_fake):
    # A correctly signed event is accepted without a CSRF token (the signature replaces it) ...
    profile = signed_in(web)
    session = public(band_checkout(web, stripe_fake))
    assert send_event(web, stripe_fake, "checkout.session.completed", session).status_code == 200
    assert reload(profile).tier == "band"


# -- Once, in any order ------------------------------------------------------------------------


def test_the_same_event_twice_is_applied_once(web, stripe_fake):
    profile = signed_in(web)
    session = public(stripe_fake.complete(pack_session(web, "pack25")))
    payload = stripe_fake.event("checkout.session.completed", session, event_id="evt_same")

    for _ in range(2):
        answer = web.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": stripe_fake.sign(payload)})
        assert answer.status_code == 200

    assert reload(profile).purchased_sms_credits == 25
    assert db.session.scalar(select(func.count()).select_from(SmsCreditPurchase)) == 1
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1


def test_two_events_for_one_pack_session_credit_it_once(web, stripe_fake):
    profile = signed_in(web)
    session = public(stripe_fake.complete(pack_session(web, "pack50")))

    send_event(web, stripe_fake, "checkout.session.completed", session, event_id="evt_a")
    send_event(web, stripe_fake, "checkout.session.completed", session, event_id="evt_b")

    assert reload(profile).purchased_sms_credits == 50


def pack_session(web, pack):
    response = post_form(web, f"/billing/checkout/credits/{pack}")
    return response.headers["Location"].rsplit("/", 1)[1]


def test_deleted_then_a_late_updated_stays_free(web, stripe_fake):
    profile, session = upgraded(web, stripe_fake)
    band = make_band(profile)
    subscription = stripe_fake.set_status(session["subscription"], "canceled")

    send_event(web, stripe_fake, "customer.subscription.deleted", subscription)
    # The "updated" sent before the cancellation arrives last, still saying active.
    send_event(web, stripe_fake, "customer.subscription.updated", {**subscription, "status": "active"})

    profile = reload(profile)
    assert profile.tier == "free" and profile.subscription_status == "canceled"
    assert profile.storage_limit == 1 * GIB
    assert db.session.get(Band, band.id).read_only is True


def test_an_updated_event_before_checkout_completed_still_upgrades_once(web, stripe_fake):
    profile = signed_in(web)
    session = public(band_checkout(web, stripe_fake))
    subscription = stripe_fake.subscriptions[session["subscription"]]

    send_event(web, stripe_fake, "customer.subscription.updated", subscription)
    assert reload(profile).tier == "band"
    send_event(web, stripe_fake, "checkout.session.completed", session)

    profile = reload(profile)
    assert profile.tier == "band" and sms_credits.balance(profile).monthly_total == 50


def test_subscription_status_is_stored_as_stripe_says(web, stripe_fake):
    profile, session = upgraded(web, stripe_fake)
    for status, tier in (("trialing", "band"), ("past_due", "band"), ("unpaid", "free"), ("active", "band")):
        subscription = stripe_fake.set_status(session["subscription"], status)
        send_event(web, stripe_fake, "customer.subscription.updated", subscription)
        profile = reload(profile)
        assert (profile.subscription_status, profile.tier) == (status, tier)


def test_payment_failure_shows_the_past_due_banner_and_the_portal(web, stripe_fake):
    profile, session = upgraded(web, stripe_fake)
    stripe_fake.set_status(session["subscription"], "past_due")
    invoice = {"id": "in_1", "object": "invoice", "customer": session["customer"],
               "subscription": session["subscription"], "status": "open"}

    assert send_event(web, stripe_fake, "invoice.payment_failed", invoice).status_code == 200

    profile = reload(profile)
    assert profile.subscription_status == "past_due" and profile.tier == "band"
    page = _text(web.get("/w/me"))
    assert "Your last payment didn't go through." in page and "Fix payment" in page
    portal = post_form(web, "/billing/portal")
    assert portal.status_code == 302 and portal.headers["Location"] == f"{stripe_fake.url}/portal/{session['customer']}"
    assert stripe_fake.portal_sessions[-1]["return_url"].endswith("/account")


def test_payment_failure_found_under_the_new_invoice_shape(web, stripe_fake):
    profile, session = upgraded(web, stripe_fake)
    stripe_fake.set_status(session["subscription"], "past_due")
    invoice = {"id": "in_2", "object": "invoice", "customer": session["customer"],
               "parent": {"subscription_details": {"subscription": session["subscription"]}}}

    send_event(web, stripe_fake, "invoice.payment_failed", invoice)

    assert reload(profile).subscription_status == "past_due"


def test_no_banner_while_payments_are_fine(web, stripe_fake):
    upgraded(web, stripe_fake)
    assert "Fix payment" not in _text(web.get("/w/me"))


def test_when_stripe_cannot_be_asked_the_event_is_retried_later(web, stripe_fake):
    profile = signed_in(web)
    session = public(band_checkout(web, stripe_fake))
    payload = stripe_fake.event("checkout.session.completed", session, event_id="evt_retry")
    stripe_fake.fail_next += [(500, "down")] * 3

    first = web.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": stripe_fake.sign(payload)})
    assert first.status_code == 503
    assert reload(profile).tier == "free"
    assert db.session.get(StripeEvent, "evt_retry") is None

    again = web.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": stripe_fake.sign(payload)})
    assert again.status_code == 200 and reload(profile).tier == "band"


def test_unknown_event_types_are_recorded_and_ignored(web, stripe_fake):
    response = send_event(web, stripe_fake, "charge.refunded", {"id": "ch_1", "object": "charge"}, event_id="evt_x")
    assert response.status_code == 200
    assert db.session.get(StripeEvent, "evt_x").result == "ignored"


def test_events_for_unknown_accounts_are_recorded_not_retried(web, stripe_fake):
    session = {"id": "cs_nobody", "object": "checkout.session", "mode": "payment", "payment_status": "paid",
               "customer": "cus_nobody", "metadata": {"kind": "pack", "pack": "pack25"}}
    assert send_event(web, stripe_fake, "checkout.session.completed", session, event_id="evt_n").status_code == 200
    assert db.session.get(StripeEvent, "evt_n").result == "no matching account"


# -- Downgrade -----------------------------------------------------------------------------------


def test_downgrade_keeps_everything_and_makes_owned_bands_read_only(web, stripe_fake, billing_app):
    from coretet.services.filestore import store_from_config
    from coretet.services.keys import keys_from_config
    from tests.share_factories import add_grant, make_share

    profile, session = upgraded(web, stripe_fake)
    band = make_band(profile, members=[make_profile()])
    track = make_track(profile, band=band, size=5000, store=store_from_config(billing_app.config))
    share = make_share(profile, expires_at=None)
    add_grant(share, "+12015550123", keys_from_config(billing_app.config), code="A7K9M2")
    subscription = stripe_fake.set_status(session["subscription"], "canceled")

    send_event(web, stripe_fake, "customer.subscription.deleted", subscription)

    profile = reload(profile)
    assert profile.tier == "free" and profile.storage_limit == 1 * GIB
    assert db.session.get(Band, band.id).read_only is True
    # Nothing is deleted and members can still play what is there ...
    assert web.get(f"/w/{band.id}/tracks/{track.id}/stream").status_code == 200
    # ... but new uploads into the band are refused.
    refused = web.post(f"/w/{band.id}/tracks", data=b"RIFF", headers={
        "X-CSRFToken": csrf(web, "/plans"), "X-Filename": "new.wav", "Content-Type": "audio/wav"})
    assert refused.status_code in (403, 409) and "read-only" in _text(refused)
    # An active share keeps working: the recipient's code still opens it.
    recipient = billing_app.test_client()
    opened = recipient.post(f"/listen/{share.share_token}",
                            data={"code": "A7K9M2", "csrf_token": csrf(recipient, "/login")})
    assert opened.status_code == 303 and opened.location.endswith(f"/listen/{share.share_token}/play")


def test_downgrade_leaves_this_periods_credits_and_next_period_is_free_sized(web, stripe_fake):
    profile, session = upgraded(web, stripe_fake)
    today = date.today()
    assert current_period(profile, today).credits_total == 50

    send_event(web, stripe_fake, "customer.subscription.deleted",
               stripe_fake.set_status(session["subscription"], "canceled"))

    profile = reload(profile)
    assert current_period(profile, today).credits_total == 50  # the downgrade waits for the next period
    later = current_period(profile, today + timedelta(days=40))
    assert later.credits_total == 10


# -- Credits ---------------------------------------------------------------------------------------


def test_purchased_credits_are_used_after_the_monthly_ones(web, stripe_fake):
    profile = signed_in(web)
    session = public(stripe_fake.complete(pack_session(web, "pack25")))
    send_event(web, stripe_fake, "checkout.session.completed", session)
    profile = reload(profile)

    sources = [source for source, _ in sms_credits.debit(profile, 12)]
    db.session.commit()

    assert sources.count("monthly") == 10 and sources.count("purchased") == 2
    balance = sms_credits.balance(reload(profile))
    assert (balance.monthly_left, balance.purchased) == (0, 23)


def test_credits_fragment_on_the_account_page_and_the_credits_page(web, stripe_fake):
    profile = signed_in(web)
    period = current_period(profile)
    period.credits_used = 2
    db.session.commit()

    page = _text(web.get("/account"))
    resets = period.period_end
    assert "8 of 10</strong> monthly credits left" in page
    assert f"resets {resets.strftime('%b')} {resets.day}" in page
    credits_page = _text(web.get("/billing/credits"))
    for pack in tiers.CREDIT_PACKS:
        assert f"Buy {pack.credits}" in credits_page


# -- Success and cancel pages ------------------------------------------------------------------------


def test_success_page_waits_for_the_webhook_then_says_so(web, stripe_fake):
    signed_in(web)
    session = public(band_checkout(web, stripe_fake))
    url = f"/billing/success?kind=band&session_id={session['id']}"

    pending = _text(web.get(url))
    assert "Confirming your payment" in pending and 'hx-trigger="every 2s"' in pending
    assert "You're on Band" not in pending

    send_event(web, stripe_fake, "checkout.session.completed", session)
    status = _text(web.get(f"/billing/status?kind=band&session_id={session['id']}",
                           headers={"HX-Request": "true"}))
    assert "You're on Band" in status and "hx-trigger" not in status


def test_pack_success_page_waits_for_that_purchase(web, stripe_fake):
    signed_in(web)
    session_id = pack_session(web, "pack100")
    url = f"/billing/status?kind=pack&session_id={session_id}"
    assert "Confirming your payment" in _text(web.get(url))

    send_event(web, stripe_fake, "checkout.session.completed", public(stripe_fake.complete(session_id)))

    assert "Credits added" in _text(web.get(url))


def test_cancel_page_says_nothing_was_charged(web, stripe_fake):
    signed_in(web)
    page = _text(web.get("/billing/cancelled?kind=band"))
    assert "Nothing was charged" in page
    assert web.get("/billing/cancelled?kind=bogus").status_code == 404


# -- Upgrade modal triggers ----------------------------------------------------------------------------


@pytest.mark.parametrize("limit,words", [
    ("storage", "The Free plan includes 1 GB of storage."),
    ("expiry", "Free shares can last at most 7 days"),
])
def test_upgrade_modal_names_the_limit_and_starts_checkout(web, stripe_fake, limit, words):
    signed_in(web)
    modal = _text(web.get(f"/billing/upgrade/{limit}", headers={"HX-Request": "true"}))
    assert words in modal
    assert "$5 first month, then $10/month" in modal
    assert 'action="/billing/checkout/band"' in modal and "Maybe later" in modal


def test_band_creation_as_free_opens_the_modal_that_pays(web, stripe_fake):
    signed_in(web)
    modal = _text(web.get("/bands/new", headers={"HX-Request": "true"}))
    assert "can join bands but not create them" in modal
    assert 'action="/billing/checkout/band"' in modal


def test_plans_page_marks_the_current_plan_and_offers_each_action(web, stripe_fake):
    signed_in(web)
    page = _text(web.get("/plans"))
    assert "Your plan" in page
    assert 'action="/billing/checkout/band"' in page
    assert "Join the waitlist" in page


# -- Concurrency on PostgreSQL ----------------------------------------------------------------------------


def deliver_at_once(app, fake, payloads):
    """POST every signed payload to the webhook from its own thread, released together; the statuses."""
    barrier = threading.Barrier(len(payloads), timeout=60)
    statuses = []

    def deliver(payload):
        web = app.test_client()
        barrier.wait()
        statuses.append(web.post("/webhooks/stripe", data=payload,
                                 headers={"Stripe-Signature": fake.sign(payload)}).status_code)

    threads = [threading.Thread(target=deliver, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_the_same_event_delivered_concurrently_applies_once(pg_app, race_app, stripe_fake):
    pg_app.config.update(stripe_fake.config())
    race_app.config.update(stripe_fake.config())
    owner = make_profile()
    client = pg_app.test_client()
    sign_in(client, owner.email)
    session_id = pack_session(client, "pack100")
    session = public(stripe_fake.complete(session_id))
    payload = stripe_fake.event("checkout.session.completed", session, event_id="evt_race")

    statuses = deliver_at_once(race_app, stripe_fake, [payload] * 8)

    assert statuses == [200] * 8
    db.session.expire_all()
    assert db.session.get(Profile, owner.id).purchased_sms_credits == 100
    assert db.session.scalar(select(func.count()).select_from(SmsCreditPurchase)) == 1


def test_concurrent_upgrade_events_top_up_credits_once(pg_app, race_app, stripe_fake):
    pg_app.config.update(stripe_fake.config())
    race_app.config.update(stripe_fake.config())
    owner = make_profile()
    client = pg_app.test_client()
    sign_in(client, owner.email)
    session = public(band_checkout(client, stripe_fake))
    subscription = stripe_fake.subscriptions[session["subscription"]]
    payloads = [stripe_fake.event("checkout.session.completed", session, event_id=f"evt_c{i}") for i in range(3)]
    payloads += [stripe_fake.event("customer.subscription.updated", subscription, event_id=f"evt_u{i}") for i in range(3)]

    statuses = deliver_at_once(race_app, stripe_fake, payloads)

    assert statuses == [200] * len(payloads)
    db.session.expire_all()
    profile = db.session.get(Profile, owner.id)
    assert profile.tier == "band"
    periods = db.session.scalars(select(SmsCredit).where(SmsCredit.profile_id == owner.id)).all()
    assert [(p.credits_total, p.credits_used) for p in periods] == [(50, 0)]


# -- flask stripe setup ---------------------------------------------------------------------------------------


def test_stripe_setup_creates_the_catalogue_once(billing_app, stripe_fake):
    fresh = FakeStripe()
    try:
        billing_app.config.update(STRIPE_API_BASE=fresh.url)
        runner = billing_app.test_cli_runner()

        first = runner.invoke(args=["stripe", "setup"])
        second = runner.invoke(args=["stripe", "setup"])

        assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
        lines = [line.split("#")[0].strip() for line in first.output.splitlines() if "=" in line]
        assert lines == [line.split("#")[0].strip() for line in second.output.splitlines() if "=" in line]
        assert "created" in first.output and "created" not in second.output.replace("# Add", "")
        assert {p["lookup_key"] for p in fresh.prices.values()} == {
            "coretet_band_monthly", "coretet_pack25", "coretet_pack50", "coretet_pack100"}
        assert len(fresh.prices) == 4
        band_price = next(p for p in fresh.prices.values() if p["lookup_key"] == "coretet_band_monthly")
        assert band_price["unit_amount"] == 1000 and band_price["recurring"] == {"interval": "month"}
        assert fresh.coupons["coretet-band-intro"]["amount_off"] == 500
        assert fresh.coupons["coretet-band-intro"]["duration"] == "once"
    finally:
        fresh.close()


def test_stripe_setup_without_a_key_says_what_is_missing(billing_app):
    billing_app.config["STRIPE_SECRET_KEY"] = None
    result = billing_app.test_cli_runner().invoke(args=["stripe", "setup"])
    assert result.exit_code != 0 and "STRIPE_SECRET_KEY is missing" in result.output
