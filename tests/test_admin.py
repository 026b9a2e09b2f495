"""Admin pages: users, SMS log, Stripe events, audit log. 404 for everyone but admins."""
import html

import pytest
from sqlalchemy import select

from coretet.extensions import db
from coretet.models import AdminAction, Profile, SmsMessage, StripeEvent, utcnow
from coretet.services.keys import keys_from_config
from coretet.services.phone import blind_index, encrypt_phone
from tests.auth_helpers import csrf, sign_in
from tests.factories import make_profile

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/sms", "/admin/stripe-events", "/admin/audit", "/admin/waitlist",
               "/admin/waitlist.csv"]


def text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def admin_client(app):
    client = app.test_client()
    admin = make_profile(name="Ada Admin", is_admin=True)
    sign_in(client, admin.email)
    client.admin = admin
    return client


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_not_found_for_anyone_else(app, path):
    anonymous = app.test_client()
    member = app.test_client()
    sign_in(member, make_profile().email)
    for client in (anonymous, member):
        assert client.get(path).status_code == 404


def test_user_actions_are_not_found_for_non_admins(app):
    target = make_profile()
    member = app.test_client()
    sign_in(member, make_profile().email)
    token = csrf(member, "/plans")
    for path in (f"/admin/users/{target.id}", f"/admin/users/{target.id}/credits", f"/admin/users/{target.id}/admin"):
        response = member.post(path, data={"csrf_token": token, "amount": "50", "make_admin": "1"}) \
            if path.endswith(("credits", "admin")) else member.get(path)
        assert response.status_code == 404
    db.session.expire_all()
    target = db.session.get(Profile, target.id)
    assert target.purchased_sms_credits == 0 and not target.is_admin


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_open_for_admins(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_users_page_lists_tier_status_storage_and_credits_and_searches(admin_client):
    make_profile(name="Sam Drums", email="sam@example.com", tier="band", subscription_status="past_due",
                 storage_used=3 * 1024**2, purchased_sms_credits=25)
    make_profile(name="Robin Keys", email="robin@example.com")

    page = text(admin_client.get("/admin/users"))
    assert "Sam Drums" in page and "Robin Keys" in page
    assert "past due" in page and "25 purchased" in page and "3 MB of 25 GB" in page

    found = text(admin_client.get("/admin/users?q=SAM", headers={"HX-Request": "true"}))
    assert "Sam Drums" in found and "Robin Keys" not in found and "<html" not in found
    none = text(admin_client.get("/admin/users?q=%25_nobody"))
    assert "No accounts match “%_nobody”." in none


def test_granting_credits_is_recorded_with_who_and_when(admin_client):
    target = make_profile(name="Lee Bass")

    response = admin_client.post(f"/admin/users/{target.id}/credits", data={
        "csrf_token": csrf(admin_client, "/admin/users"), "amount": "40", "note": "carrier outage"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Profile, target.id).purchased_sms_credits == 40
    action = db.session.scalar(select(AdminAction).where(AdminAction.target_profile_id == target.id))
    assert action.admin_id == admin_client.admin.id and action.action == "grant_sms_credits"
    assert action.details == {"amount": 40, "note": "carrier outage"}
    assert (utcnow() - action.created_at).total_seconds() < 60
    audit = text(admin_client.get("/admin/audit"))
    assert "Ada Admin" in audit and "grant sms credits" in audit and target.email in audit


@pytest.mark.parametrize("amount", ["0", "-5", "1001", "lots", ""])
def test_bad_credit_grants_are_refused_with_a_message(admin_client, amount):
    target = make_profile()
    response = admin_client.post(f"/admin/users/{target.id}/credits", data={
        "csrf_token": csrf(admin_client, "/admin/users"), "amount": amount})
    assert response.status_code == 422
    assert "Grant between 1 and 1000 credits." in text(response)
    db.session.expire_all()
    assert db.session.get(Profile, target.id).purchased_sms_credits == 0
    assert db.session.scalar(select(AdminAction)) is None


def test_admins_can_promote_but_not_remove_themselves(admin_client):
    target = make_profile()
    token = csrf(admin_client, "/admin/users")
    admin_client.post(f"/admin/users/{target.id}/admin", data={"csrf_token": token, "make_admin": "1"})
    refused = admin_client.post(f"/admin/users/{admin_client.admin.id}/admin",
                                data={"csrf_token": token, "make_admin": "0"})

    db.session.expire_all()
    assert db.session.get(Profile, target.id).is_admin
    assert refused.status_code == 422 and "can't remove your own admin access" in text(refused)
    assert db.session.get(Profile, admin_client.admin.id).is_admin
    assert [a.action for a in db.session.scalars(select(AdminAction))] == ["promote_admin"]


def test_unknown_user_ids_are_not_found(admin_client):
    assert admin_client.get("/admin/users/not-a-uuid").status_code == 404
    assert admin_client.get("/admin/users/00000000-0000-4000-8000-000000000000").status_code == 404


def test_sms_log_shows_status_errors_and_refunds_with_masked_numbers(app, admin_client):
    keys = keys_from_config(app.config)
    sender = make_profile(email="sender@example.com")
    phone = "+12015550123"
    for status, code, refunded in (("sent", None, None), ("failed", "30003", utcnow())):
        db.session.add(SmsMessage(purpose="share_code", profile_id=sender.id, status=status, error_code=code,
                                  error_message="Unreachable handset" if code else None, credit_source="monthly",
                                  refunded_at=refunded, to_blind_index=blind_index(phone, keys.phone_hmac),
                                  to_encrypted=encrypt_phone(phone, keys.phone_encryption)))
    db.session.commit()

    page = text(admin_client.get("/admin/sms"))
    assert "30003" in page and "Unreachable handset" in page and "refunded" in page
    assert "sender@example.com" in page and "0123" in page
    assert "555-0123" not in page.replace(" ", "") or "•" in page  # masked, never in full
    assert "2015550123" not in page.replace(" ", "").replace("-", "")
    failed_only = text(admin_client.get("/admin/sms?status=failed"))
    assert failed_only.count("Unreachable handset") == 1 and ">sent<" not in failed_only


def test_stripe_events_page_shows_type_applied_and_result(admin_client):
    db.session.add(StripeEvent(id="evt_123", type="checkout.session.completed", applied_at=utcnow(),
                               result="upgraded to band (active)"))
    db.session.add(StripeEvent(id="evt_456", type="invoice.payment_failed"))
    db.session.commit()

    page = text(admin_client.get("/admin/stripe-events"))
    assert "evt_123" in page and "checkout.session.completed" in page and "upgraded to band (active)" in page
    assert "evt_456" in page and "not applied" in page
