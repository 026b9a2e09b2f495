"""Claims of docs/SECURITY.md that no area test proved on its own; each test is named in that file."""
import hashlib
import re
import tempfile
import uuid

import pytest
from cryptography.fernet import Fernet
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, text

from coretet import create_app
from coretet.config import Config, TestConfig
from coretet.extensions import db
from coretet.models import BandMember, LoginSession, Profile, utcnow
from coretet.services import bands, listen, outbox, sharing, workspaces
from coretet.services.filestore import store_from_config
from coretet.services.keys import keys_from_config
from coretet.services.workspaces import Workspace
from tests.auth_helpers import csrf, latest_code, sign_in
from tests.conftest import build_app, empty_database
from tests.factories import PASSWORD, make_band, make_playlist, make_profile, make_track
from tests.share_factories import add_grant, make_share

# Signed webhooks replace the CSRF token with a signature (their own tests check it).
CSRF_EXEMPT_BLUEPRINTS = {"webhooks"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
ANY_ID = "00000000-0000-4000-8000-000000000001"


def _state_changing_routes():
    app = create_app(TestConfig("sqlite://", tempfile.mkdtemp()))
    adapter = app.url_map.bind("coretet.test")
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.split(".")[0] in CSRF_EXEMPT_BLUEPRINTS:
            continue
        for method in sorted(rule.methods & STATE_CHANGING):
            values = {name: "email" if name == "field" else ANY_ID for name in rule.arguments}
            routes.append((adapter.build(rule.endpoint, values, method=method), method))
    return routes


@pytest.fixture(scope="module")
def victim(sqlite_url, tmp_path_factory):
    """A signed-in browser, for the whole walk (the check comes before any database work, so SQLite is enough)."""
    app = build_app(sqlite_url, tmp_path_factory.mktemp("csrf"))
    with app.app_context():
        make_profile(email="victim@example.com")
    browser = app.test_client()
    sign_in(browser, "victim@example.com")
    yield browser
    empty_database(app)


@pytest.mark.parametrize("path,method", _state_changing_routes())
def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(victim, path, method):
    """A page on another site can make a signed-in browser send this request, but not with our token."""
    response = victim.open(path, method=method, data={"name": "x", "title": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 400, f"{method} {path} answered {response.status_code} without a CSRF token"
    assert "This form has expired" in response.get_data(as_text=True)


def test_a_removed_member_is_refused_the_band_on_their_very_next_request(app):
    owner, member = make_profile(email="owner@example.com", tier="band"), make_profile(email="member@example.com")
    band = make_band(owner, members=[member])
    track = make_track(owner, band=band, size=4000, store=store_from_config(app.config))
    playlist = make_playlist(owner, [track], band=band)
    urls = [f"/w/{band.id}", f"/w/{band.id}/playlists/{playlist.id}", f"/w/{band.id}/tracks/{track.id}/stream"]
    members_client, owners_client = app.test_client(), app.test_client()
    sign_in(members_client, member.email)
    sign_in(owners_client, owner.email)
    assert [members_client.get(url).status_code for url in urls] == [200, 200, 200]

    row = db.session.scalar(select(BandMember.id).where(BandMember.profile_id == member.id))
    removed = owners_client.delete(f"/w/{band.id}/band/members/{row}", headers={
        "HX-Request": "true", "X-CSRFToken": csrf(owners_client, "/w/me")})
    assert removed.status_code == 200

    # The same browser session, still signed in: every band URL is now the 404 of a band that does not exist.
    unknown = members_client.get(f"/w/{uuid.uuid4()}")
    for url in urls:
        refused = members_client.get(url)
        assert refused.status_code == 404 and refused.data == unknown.data, url


def _session_cookie(secret_key, session_id):
    """A Flask session cookie naming a login session, signed the way Flask signs it, with `secret_key`."""
    serializer = URLSafeTimedSerializer(secret_key, salt="cookie-session", serializer=TaggedJSONSerializer(),
                                        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1})
    return serializer.dumps({"_user_id": str(session_id), "_fresh": True})


def test_a_session_id_from_a_leaked_database_signs_nobody_in_without_the_secret_key(app):
    make_profile(email="alex@example.com")
    sign_in(app.test_client(), "alex@example.com")
    session_id = db.session.scalar(select(LoginSession.id))

    attacker = app.test_client()
    attacker.set_cookie("session", _session_cookie("a-guessed-secret-key", session_id))
    assert attacker.get("/w/me").status_code == 302  # to the sign-in page

    # The same cookie signed with the app's real key works: only the key was missing.
    holder = app.test_client()
    holder.set_cookie("session", _session_cookie(app.config["SECRET_KEY"], session_id))
    assert holder.get("/w/me").status_code == 200


def test_passwords_are_stored_only_as_salted_scrypt_hashes(app):
    """A leaked database gives memory-hard, salted hashes: no password, and no two alike."""
    for email, phone in (("one@example.com", "(201) 555-0196"), ("two@example.com", "(201) 555-0197")):
        browser = app.test_client()
        created = browser.post("/signup", data={"name": "Jo", "email": email, "password": PASSWORD, "phone": phone,
                                                "csrf_token": csrf(browser, "/signup")})
        assert created.status_code == 302
    hashes = db.session.scalars(select(Profile.password_hash).order_by(Profile.email)).all()
    assert len(hashes) == 2 and hashes[0] != hashes[1]
    assert all(h.startswith("scrypt:") and PASSWORD not in h for h in hashes)


def test_a_dump_of_every_table_holds_no_recipient_phone_and_no_code(app, client):
    """Recipients, invitees and numbers being verified appear nowhere in clear, in any table; nor do codes or invite tokens."""
    owner = make_profile(email="owner@example.com", tier="band", phone="+12015550190")
    keys = keys_from_config(app.config)
    recipients = ["+12015550191", "+12015550192"]
    created = sharing.create_share(Workspace(owner), make_playlist(owner), owner, [(p, "Sam") for p in recipients], 7,
                                   keys, lambda token: f"http://coretet.test/listen/{token}")
    sharing.resend_code(created.share, created.grants[0].id, keys, lambda token: f"http://coretet.test/listen/{token}")
    band = make_band(owner)
    bands.invite_by_phone(workspaces.resolve(owner, str(band.id)), "+12015550193", keys=keys,
                          link_for=lambda token: f"/invites/{token}")
    client.post("/signup", data={"name": "Jo", "email": "jo@example.com", "password": PASSWORD,
                                 "phone": "(201) 555-0194", "csrf_token": csrf(client, "/signup")})
    texts = outbox.read(app.config["OUTBOX_DIR"], "sms")
    assert len(texts) == 5

    numbers = ["2015550191", "2015550192", "2015550193", "2015550194"]
    codes = {m.group(1) for t in texts for m in [re.search(r"(?:Code|is) ([A-Z2-9]{6}|\d{6})\b", t["body"])] if m}
    assert len(codes) == 4  # two share codes, the resent one, the verification code
    codes |= {re.search(r"/invites/(\S+)", t["body"]).group(1) for t in texts if "/invites/" in t["body"]}
    assert latest_code(app, "+12015550194") in codes
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):
            dump = " ".join(str(value) for value in row)
            digits = re.sub(r"\D", "", dump)
            assert not [n for n in numbers if n in digits], f"a phone number in clear in {table.name}"
            assert not [c for c in codes if re.search(rf"(?<![0-9A-Za-z]){c}(?![0-9A-Za-z])", dump)], table.name


def test_production_never_serves_the_outbox(monkeypatch, tmp_path):
    """The outbox shows every text and code; outside development it does not exist at all."""
    monkeypatch.setenv("CORETET_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("APP_BASE_URL", "https://coretet.example")
    for name in ("SECRET_KEY", "PHONE_HMAC_KEY", "CODE_HMAC_KEY"):
        monkeypatch.setenv(name, f"{name.lower()}-for-this-test-only-0123456789")
    monkeypatch.setenv("PHONE_ENCRYPTION_KEY", Fernet.generate_key().decode())
    app = create_app(Config())
    assert not [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("dev.")]
    assert app.test_client().get("/dev/outbox").status_code == 404


@pytest.fixture
def listening(app):
    """A recipient's browser that entered its code, with the share, grant and track it listens to."""
    owner = make_profile(name="Alex")
    track = make_track(owner, size=5000, store=store_from_config(app.config))
    share = make_share(owner, playlist=make_playlist(owner, [track]))
    grant = add_grant(share, "+12015550195", keys_from_config(app.config), code="A7K9M2")
    browser = app.test_client()
    entered = browser.post(f"/listen/{share.share_token}", data={"code": "A7K9M2", "csrf_token": csrf(browser)})
    assert entered.status_code == 303
    return browser, share, grant, track


def test_the_player_puts_no_phone_number_in_a_link(listening):
    browser, share, _, _ = listening
    page = browser.get(f"/listen/{share.share_token}/play").get_data(as_text=True)
    links = re.findall(r'href="([^"]+)"', page)
    assert not [link for link in links if "2015550195" in re.sub(r"\D", "", link)]


def test_after_revocation_a_refused_track_and_then_the_page_both_say_access_was_withdrawn(listening):
    browser, share, grant, track = listening
    grant.is_revoked, grant.revoked_at = True, utcnow()
    db.session.commit()
    assert browser.get(f"/listen/{share.share_token}/tracks/{track.id}/stream").status_code == 403
    page = browser.get(f"/listen/{share.share_token}/play")
    assert page.status_code == 403 and listen.REVOKED in page.get_data(as_text=True)
