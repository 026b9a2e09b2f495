"""Password reset, email change, linking at sign-in and sign-up inputs that must never break."""
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from coretet.extensions import db
from coretet.models import PlaylistFollower, Profile
from tests.auth_helpers import csrf, csrf_from, latest_email, link_in, sign_in
from tests.factories import make_profile
from tests.share_factories import make_grant


def test_reset_answers_the_same_for_known_and_unknown_emails(client, app):
    make_profile(email="alex@example.com")
    known = client.post("/password/forgot", data={"email": "alex@example.com", "csrf_token": csrf(client)},
                        follow_redirects=True).get_data(as_text=True)
    unknown = client.post("/password/forgot", data={"email": "ghost@example.com", "csrf_token": csrf(client)},
                          follow_redirects=True).get_data(as_text=True)
    assert "If an account uses that email" in known and "If an account uses that email" in unknown
    assert latest_email(app, to="ghost@example.com") is None
    assert latest_email(app, to="alex@example.com") is not None


def _request_reset(client, app):
    client.post("/password/forgot", data={"email": "alex@example.com", "csrf_token": csrf(client)})
    return link_in(latest_email(app, to="alex@example.com")["body"]).replace("http://coretet.test", "")


def test_a_reset_link_works_once(client, app):
    make_profile(email="alex@example.com")
    path = _request_reset(client, app)
    page = client.get(path).get_data(as_text=True)
    response = client.post(path, data={"password": "quiet orange lighthouse", "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert sign_in(client, "alex@example.com", "quiet orange lighthouse").status_code == 302
    assert client.get(path).status_code == 400, "a used link is dead"


def test_a_reset_link_expires_after_an_hour(client, app, monkeypatch):
    make_profile(email="alex@example.com")
    path = _request_reset(client, app)
    later = time.time() + 3601
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert client.get(path).status_code == 400


def test_a_reset_signs_out_every_session(app):
    make_profile(email="alex@example.com")
    laptop, browser = app.test_client(), app.test_client()
    sign_in(laptop, "alex@example.com")
    path = _request_reset(browser, app)
    page = browser.get(path).get_data(as_text=True)
    browser.post(path, data={"password": "quiet orange lighthouse", "csrf_token": csrf_from(page)})
    assert laptop.get("/w/me").status_code == 302


def test_email_changes_only_when_the_new_address_confirms(client, app):
    profile = make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    page = client.get("/account").get_data(as_text=True)
    client.post("/account/email", data={"email": "alex@newband.com", "csrf_token": csrf_from(page)})
    db.session.expire_all()
    assert db.session.get(Profile, profile.id).email == "alex@example.com"
    path = link_in(latest_email(app, to="alex@newband.com")["body"]).replace("http://coretet.test", "")
    assert client.get(path).status_code == 302
    db.session.expire_all()
    assert db.session.get(Profile, profile.id).email == "alex@newband.com"
    assert client.get(path).status_code == 400, "the link works once"


def test_signing_in_claims_live_shares_sent_to_the_verified_phone(client, app):
    sharer = make_profile(name="Jo Sharer")
    grant = make_grant(app, sharer, "+12015550123", title="Summer EP Demos")
    profile = make_profile(email="fan@example.com", phone="+12015550123")
    sign_in(client, "fan@example.com")
    follower = db.session.scalar(select(PlaylistFollower).where(PlaylistFollower.profile_id == profile.id))
    assert follower.source == "sms_share" and follower.grant_id == grant.id
    page = client.get("/shared").get_data(as_text=True)
    assert "Summer EP Demos" in page and "Jo Sharer" in page


text_input = st.text(max_size=300) | st.sampled_from(
    ["", " ", "\x00", "+1", "+999999999999999999", "a@b", "@", "(201) 555-0123", "é" * 80, "<script>", "'; DROP TABLE profiles; --"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=text_input, email=text_input, password=text_input, phone=text_input)
def test_no_sign_up_input_gives_a_server_error(client, app, name, email, password, phone):
    token = csrf(client, "/signup")
    data = {"name": name, "email": email, "password": password, "phone": phone, "csrf_token": token}
    assert client.post("/signup", data=data).status_code in (302, 422)
    for field in ("name", "email", "password", "phone"):
        assert client.post(f"/signup/check/{field}", data=data).status_code == 200
    if client.get_cookie("session") and client.get("/w/me").status_code == 200:
        client.post("/logout", data={"csrf_token": csrf(client, "/w/me")})
