"""Sign-up with phone verification, sign-in limits, sessions and CSRF (SPEC §2)."""
import pytest
from sqlalchemy import select

from coretet.extensions import db
from coretet.models import Profile
from coretet.services import accounts
from coretet.services.keys import keys_from_config
from tests.auth_helpers import csrf, csrf_from, latest_code, latest_text, sign_in
from tests.conftest import build_app, empty_database
from tests.factories import PASSWORD, make_profile

GOOD = {"name": "Robin Vale", "email": "robin@example.com", "password": "velvet thunder rehearsal",
        "phone": "(201) 555-0123"}


def sign_up(client, **fields):
    data = dict(GOOD, **fields)
    data["csrf_token"] = csrf(client, "/signup")
    return client.post("/signup", data=data)


def profile_by_email(email):
    db.session.expire_all()
    return db.session.scalar(select(Profile).where(Profile.email == email))


def test_sign_up_then_the_texted_code_verifies_the_phone(client, app):
    response = sign_up(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/verify")
    profile = profile_by_email("robin@example.com")
    assert profile.phone_blind_index is None, "the phone counts only after the code matches"
    text = latest_text(app, to="+12015550123")
    assert "code" in text["body"] and len(text["body"]) <= 160

    page = client.get("/verify").get_data(as_text=True)
    assert "+1 201-555-0123" in page
    response = client.post("/verify", data={"code": latest_code(app), "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    profile = profile_by_email("robin@example.com")
    assert accounts.phone_of(profile, keys_from_config(app.config)) == "+12015550123"
    assert profile.phone_verified_at is not None


def test_a_wrong_code_is_refused_with_attempts_left(client, app):
    sign_up(client)
    page = client.get("/verify").get_data(as_text=True)
    wrong = "000000" if latest_code(app) != "000000" else "111111"
    response = client.post("/verify", data={"code": wrong, "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert "not right" in response.get_data(as_text=True)
    assert profile_by_email("robin@example.com").phone_blind_index is None


def test_a_duplicate_email_is_refused_next_to_the_field(client, app):
    make_profile(email="robin@example.com")
    response = sign_up(client, email="Robin@Example.com")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["(201) 555-0123", "201.555.0123", "+1 201 555 0123", "2015550123"])
def test_a_phone_verified_on_another_account_is_refused_in_any_format(client, app, typed):
    make_profile(phone="+12015550123")
    response = sign_up(client, phone=typed)
    assert response.status_code == 422
    assert "already belongs to an account" in response.get_data(as_text=True)


def test_inline_check_shows_the_phone_in_international_format(client, app):
    token = csrf(client, "/signup")
    response = client.post("/signup/check/phone", data={"phone": "201.555.0123", "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert "text a code to +1 201-555-0123" in response.get_data(as_text=True)


def test_inline_check_refuses_countries_outside_the_allow_list(client, app):
    token = csrf(client, "/signup")
    response = client.post("/signup/check/phone", data={"phone": "+44 20 7946 0958", "csrf_token": token})
    assert "United States and Canada" in response.get_data(as_text=True)


def test_inline_check_says_why_a_password_is_weak(client, app):
    token = csrf(client, "/signup")
    short = client.post("/signup/check/password", data={"password": "abc", "csrf_token": token})
    assert "at least 10 characters" in short.get_data(as_text=True)
    common = client.post("/signup/check/password", data={"password": "password123", "csrf_token": token})
    assert "common" in common.get_data(as_text=True)


def test_inline_check_finds_a_taken_email(client, app):
    make_profile(email="robin@example.com")
    token = csrf(client, "/signup")
    response = client.post("/signup/check/email", data={"email": "robin@example.com", "csrf_token": token})
    assert "already exists" in response.get_data(as_text=True)


def test_the_sixth_failed_sign_in_for_one_account_is_refused(client, app):
    make_profile(email="alex@example.com")
    statuses = [sign_in(client, "alex@example.com", "not the password").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert sign_in(client, "alex@example.com").status_code == 429, "even the right password waits"


def test_failed_sign_ins_across_many_accounts_from_one_ip_are_limited(client, app):
    statuses = [sign_in(client, f"guess{i}@example.com", "not the password").status_code for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_sign_in_limits_fail_closed_when_their_store_is_down(postgres_url, tmp_path):
    app = build_app(postgres_url, tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    with app.app_context():
        client = app.test_client()
        response = client.post("/login", data={"email": "a@example.com", "password": "x" * 12,
                                               "csrf_token": csrf(client)})
        assert response.status_code == 503
    empty_database(app)


def test_remember_me_survives_a_lost_session_cookie_until_sign_out(client, app):
    make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com", remember=True)
    client.delete_cookie("session")
    page = client.get("/w/me")
    assert page.status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert client.get("/w/me").status_code == 302


def test_changing_the_password_signs_out_other_sessions(app):
    make_profile(email="alex@example.com")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "alex@example.com")
    sign_in(phone, "alex@example.com")
    page = laptop.get("/account").get_data(as_text=True)
    response = laptop.post("/account/password", data={
        "current": PASSWORD, "password": "a brand new secret phrase", "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert laptop.get("/w/me").status_code == 200
    assert phone.get("/w/me").status_code == 302


def test_every_post_route_of_the_account_areas_refuses_a_missing_csrf_token(client, app):
    make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    routes = [r for r in app.url_map.iter_rules()
              if "POST" in r.methods and r.endpoint.split(".")[0] in ("auth", "account")]
    assert len(routes) >= 8
    for rule in routes:
        path = rule.rule.replace("<token>", "x").replace("<field>", "email")
        response = client.post(path, data={"email": "a@example.com", "name": "x"})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without a CSRF token"


def test_a_new_account_without_a_phone_is_prompted_after_sign_in_until_it_skips(client, app):
    make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    home = client.get("/w/me").get_data(as_text=True)
    assert "/account/phone-prompt" in home
    prompt = client.get("/account/phone-prompt", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Add your phone to share playlists by SMS" in prompt
    client.post("/account/phone-prompt/dismiss", data={"csrf_token": csrf_from(home)})
    assert "/account/phone-prompt" not in client.get("/w/me").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(home)})
    sign_in(client, "alex@example.com")
    assert "/account/phone-prompt" in client.get("/w/me").get_data(as_text=True), "back at the next sign-in"


def test_an_account_with_a_verified_phone_is_not_prompted(client, app):
    make_profile(email="alex@example.com", phone="+12015550123")
    sign_in(client, "alex@example.com")
    assert "/account/phone-prompt" not in client.get("/w/me").get_data(as_text=True)


def test_admin_pages_are_404_for_everyone_but_admins(app):
    make_profile(email="member@example.com")
    make_profile(email="boss@example.com", is_admin=True)
    anonymous, member, admin = app.test_client(), app.test_client(), app.test_client()
    sign_in(member, "member@example.com")
    sign_in(admin, "boss@example.com")
    assert anonymous.get("/admin/").status_code == 404
    assert member.get("/admin/").status_code == 404
    assert ">Admin<" not in member.get("/w/me").get_data(as_text=True)
    assert admin.get("/admin/").status_code == 200
    assert ">Admin<" in admin.get("/w/me").get_data(as_text=True)


def test_signup_never_takes_a_phone_number_from_the_url(client):
    """A number in a link would sit in access logs and browser history; the form ignores it."""
    page = client.get("/signup?phone=%2B12015550177").get_data(as_text=True)
    assert "2015550177" not in page and "201-555-0177" not in page
