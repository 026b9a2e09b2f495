"""The skeleton: settings, the demo sign-in, server-side sessions and CSRF."""

import pytest

from coretet import create_app
from coretet.config import Config, ConfigError
from tests.auth_helpers import csrf_from, sign_in
from tests.factories import PASSWORD, make_profile


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    monkeypatch.setenv("CORETET_ENV", "production")
    for name in ("SECRET_KEY", "PHONE_HMAC_KEY", "CODE_HMAC_KEY", "PHONE_ENCRYPTION_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as refused:
        create_app(Config())
    for name in ("SECRET_KEY", "PHONE_HMAC_KEY", "CODE_HMAC_KEY", "PHONE_ENCRYPTION_KEY", "DATABASE_URL"):
        assert name in str(refused.value)


def test_production_refuses_the_development_keys(monkeypatch):
    dev = Config()
    monkeypatch.setenv("CORETET_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/coretet")
    monkeypatch.setenv("APP_BASE_URL", "https://coretet.app")
    for name in ("SECRET_KEY", "PHONE_HMAC_KEY", "CODE_HMAC_KEY", "PHONE_ENCRYPTION_KEY"):
        monkeypatch.setenv(name, getattr(dev, name))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config().check()


def test_every_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMS_ALLOWED_COUNTRIES", "us, ca ,gb")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("PHONE_DEFAULT_REGION", "ca")
    config = Config()
    assert config.SMS_ALLOWED_COUNTRIES == ("US", "CA", "GB")
    assert config.MAX_UPLOAD_BYTES == 1234
    assert config.PHONE_DEFAULT_REGION == "CA"


def test_a_malformed_number_setting_says_which_one(monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "lots")
    with pytest.raises(ConfigError, match="MAX_UPLOAD_BYTES"):
        Config()


def test_workspace_needs_a_sign_in(client):
    response = client.get("/w/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_demo_style_sign_in_reaches_the_workspace(client, app):
    make_profile(email="alex@example.com", name="Alex Rivera")
    response = sign_in(client, "ALEX@example.com ")
    assert response.status_code == 302
    page = client.get("/w/me").get_data(as_text=True)
    assert "Alex Rivera" in page and "Personal workspace" in page and "Tracks" in page


@pytest.mark.parametrize("email,password", [
    ("alex@example.com", "wrong password!"),
    ("nobody@example.com", PASSWORD),
])
def test_wrong_email_or_password_gets_one_generic_message(client, app, email, password):
    make_profile(email="alex@example.com")
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert "That email or password is wrong." in response.get_data(as_text=True)


def test_a_cookie_replayed_after_sign_out_is_refused(client, app):
    make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    stolen = client.get_cookie("session").value
    page = client.get("/w/me").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    client.set_cookie("session", stolen)
    response = client.get("/w/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_issues_a_new_session(client, app):
    make_profile(email="alex@example.com")
    client.get("/login")
    before = client.get_cookie("session").value
    sign_in(client, "alex@example.com")
    assert client.get_cookie("session").value != before


def test_posting_without_the_csrf_token_is_refused(client, app):
    make_profile(email="alex@example.com")
    response = client.post("/login", data={"email": "alex@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/w/me").status_code == 302


def test_unknown_pages_get_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)
