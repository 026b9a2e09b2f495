"""Recipient pages: SPEC §6 code check order, guessing limits, revocation, device binding, player."""
import io
import os
import re
import wave
from datetime import timedelta

import pytest
from sqlalchemy import event
from limits.strategies import MovingWindowRateLimiter
from redis import Redis

from coretet.extensions import db, limiter
from coretet.models import GrantListen, PlaylistFollower, PlaylistTrack, utcnow
from coretet.services import listen, sharing
from coretet.services.filestore import store_from_config
from coretet.services.keys import keys_from_config
from coretet.services.sms_credits import NotEnoughCredits
from tests.auth_helpers import csrf, latest_email, latest_text, sign_in
from tests.conftest import build_app
from tests.factories import make_playlist, make_profile, make_track
from tests.share_factories import add_grant, make_share

PHONE = "+14155550100"


@pytest.fixture
def owner(app):
    return make_profile(name="Alex")


@pytest.fixture
def tracks(app, owner):
    store = store_from_config(app.config)
    return [make_track(owner, size=5000, title=f"Song {n}", duration=61 + n, store=store) for n in range(3)]


@pytest.fixture
def share(app, owner, tracks):
    return make_share(owner, playlist=make_playlist(owner, tracks=tracks, title="Summer EP Demos"))


@pytest.fixture
def grant(app, share):
    return add_grant(share, PHONE, keys_from_config(app.config), code="A7K9M2")


def enter(client, share, code, ip="10.0.0.1", origin="", **headers):
    """Post a code like the form does, from one IP."""
    token = csrf(client, "/login")
    return client.post(f"{origin}/listen/{share.share_token}", data={"code": code, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip}, headers=headers)


def viewer(app, share, code="A7K9M2"):
    client = app.test_client()
    assert enter(client, share, code).status_code == 303
    return client


def ask_new_code(client, share, ip="10.0.0.1"):
    return client.post(f"/listen/{share.share_token}/new-code", data={"csrf_token": csrf(client, "/login")},
                       environ_base={"REMOTE_ADDR": ip})


def stream_url(share, track):
    return f"/listen/{share.share_token}/tracks/{track.id}/stream"


def save(row, **fields):
    for name, value in fields.items():
        setattr(row, name, value)
    db.session.commit()


def test_code_page_shows_who_shared_what_and_one_code_input(client, share, grant):
    page = client.get(f"/listen/{share.share_token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Alex shared a playlist with you" in html and "Summer EP Demos" in html and "3 tracks" in html
    assert html.count("<input id=\"code\"") == 1
    assert all(a in html for a in ('autocomplete="one-time-code"', 'inputmode="text"', 'autocapitalize="characters"'))
    assert "htmx" not in html and "<script" not in html
    assert (page.headers["X-Robots-Tag"], page.headers["Referrer-Policy"]) == ("noindex", "strict-origin")
    assert listen.NOT_VALID in client.get("/listen/not-a-token").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["A7K9M2", "a7k9m2", " a7k-9m2 ", "A7K 9M2"])
def test_right_code_in_any_case_with_spaces_or_dashes_opens_the_player(app, share, grant, typed):
    client = app.test_client()
    response = enter(client, share, typed)
    assert response.status_code == 303 and response.location.endswith(f"/listen/{share.share_token}/play")
    player = client.get(response.location)
    assert player.status_code == 200 and "Song 0" in player.get_data(as_text=True)
    db.session.refresh(grant)
    assert grant.is_used and grant.access_count == 1 and grant.device_hash
    assert grant.first_accessed_at is not None and grant.last_accessed_at is not None


def test_code_form_posts_over_https_with_the_referrer_the_policy_sends(app, share, grant):
    response = enter(app.test_client(), share, "A7K9M2", origin="https://localhost", Referer="https://localhost/")
    assert response.status_code == 303


def past():
    return utcnow() - timedelta(minutes=1)


# SPEC §6 order: link, share expiry, (lock), wrong code, revoked, code expiry. Each case also
# sets up every later refusal, so the earlier one must win.
@pytest.mark.parametrize("setup, code, status, message", [
    (lambda s, g: save(s, is_active=False, expires_at=past()), "ZZZZZZ", 404, listen.NOT_VALID),
    (lambda s, g: save(s, expires_at=past(), locked_at=utcnow(), failed_attempts=20), "ZZZZZZ",
     410, listen.SHARE_EXPIRED),
    (lambda s, g: save(s, locked_at=utcnow(), failed_attempts=20), "A7K9M2", 423, listen.LOCKED),
    (lambda s, g: save(g, is_revoked=True, code_expires_at=past()), "B8L3N4", 403, listen.WRONG_CODE),
    (lambda s, g: save(g, is_revoked=True, code_expires_at=past()), "A7K9M2", 403, listen.REVOKED),
    (lambda s, g: save(g, code_expires_at=past()), "A7K9M2", 410, listen.CODE_EXPIRED),
], ids=["not-valid", "share-expired", "locked", "wrong-code", "revoked", "code-expired"])
def test_code_check_refusals_come_in_spec_order(app, share, grant, setup, code, status, message):
    setup(share, grant)
    response = enter(app.test_client(), share, code)
    assert response.status_code == status
    assert message in response.get_data(as_text=True).replace("&#39;", "'")


def test_sixth_attempt_in_a_minute_from_one_ip_is_429(app, share, grant):
    client = app.test_client()
    for _ in range(5):
        assert enter(client, share, "ZZZZZZ").status_code == 403
    blocked = enter(client, share, "A7K9M2")
    assert blocked.status_code == 429 and "Too many attempts" in blocked.get_data(as_text=True)
    assert enter(client, share, "A7K9M2", ip="10.0.0.2").status_code == 303


def test_the_per_ip_limit_uses_a_moving_window(app):
    assert app.config["RATELIMIT_STRATEGY"] == "moving-window"
    assert isinstance(limiter.limiter, MovingWindowRateLimiter)


def test_spoofed_forwarded_for_does_not_evade_the_limit(app, share, grant):
    client = app.test_client()
    for n in range(5):
        enter(client, share, "ZZZZZZ", X_Forwarded_For=f"203.0.113.{n}")
    assert enter(client, share, "A7K9M2", X_Forwarded_For="203.0.113.99").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(database_url, tmp_path, app, share, grant):
    proxied = build_app(database_url, tmp_path, TRUSTED_PROXIES=1)
    with proxied.app_context():
        client = proxied.test_client()
        for _ in range(5):
            enter(client, share, "ZZZZZZ", X_Forwarded_For="198.51.100.7")
        assert enter(client, share, "A7K9M2", X_Forwarded_For="198.51.100.7").status_code == 429
        # Same proxy address, another client behind it: its own allowance.
        assert enter(client, share, "A7K9M2", X_Forwarded_For="198.51.100.8").status_code == 303


def test_limit_lives_in_redis(postgres_url, redis_url, tmp_path):
    app = build_app(postgres_url, tmp_path, redis_url=redis_url)
    with app.app_context():
        limiter.reset()
        owner = make_profile(name="Sam")
        share = make_share(owner)
        add_grant(share, PHONE, keys_from_config(app.config), code="A7K9M2")
        client = app.test_client()
        statuses = [enter(client, share, "ZZZZZZ", ip="10.9.9.9").status_code for _ in range(6)]
        assert statuses == [403] * 5 + [429]
        assert any(b"10.9.9.9" in key for key in Redis.from_url(redis_url).keys("*"))
        limiter.reset()


def test_failure_cap_locks_the_share_tells_the_owner_and_refuses_the_right_code(app, owner, share, grant):
    listening = viewer(app, share)
    first = enter(app.test_client(), share, "ZZZZZZ", ip="10.1.0.99")
    assert "19 attempts left" in first.get_data(as_text=True)
    for n in range(19):
        response = enter(app.test_client(), share, "ZZZZZZ", ip=f"10.1.0.{n}")
    assert "This link is now locked" in response.get_data(as_text=True)
    db.session.refresh(share)
    assert share.failed_attempts == 20 and share.locked_at is not None
    email = latest_email(app, owner.email)
    assert email and "locked" in email["subject"]
    assert enter(app.test_client(), share, "A7K9M2", ip="10.2.0.1").status_code == 423
    assert "is locked" in app.test_client().get(f"/listen/{share.share_token}").get_data(as_text=True)
    # The lock stops new code entries, not someone who already listens on their own phone.
    assert listening.get(f"/listen/{share.share_token}/play").status_code == 200

    save(share, locked_at=None, failed_attempts=0)  # what the owner's unlock does
    assert enter(listening, share, "A7K9M2", ip="10.2.0.2").status_code == 303


@pytest.mark.parametrize("change, message", [
    ("revoke", listen.REVOKED), ("share_expiry", listen.SHARE_EXPIRED),
    ("grant_expiry", listen.CODE_EXPIRED), ("end", listen.NOT_VALID),
])
def test_revocation_and_expiry_refuse_the_very_next_page_and_audio_request(
        app, share, grant, tracks, change, message):
    client = viewer(app, share)
    assert client.get(stream_url(share, tracks[0])).status_code == 200
    {"revoke": lambda: save(grant, is_revoked=True, revoked_at=utcnow()),
     "share_expiry": lambda: save(share, expires_at=past()),
     "grant_expiry": lambda: save(grant, expires_at=past()),
     "end": lambda: save(share, is_active=False, ended_at=utcnow())}[change]()
    page = client.get(f"/listen/{share.share_token}/play")
    audio = client.get(stream_url(share, tracks[0]))
    assert page.status_code in (403, 404, 410) and message in page.get_data(as_text=True)
    assert audio.status_code in (403, 404, 410) and audio.data != b"\0" * 5000


def test_second_phone_is_refused_and_can_ask_for_a_new_code(app, share, grant, tracks):
    first = viewer(app, share)
    second = app.test_client()
    refused = enter(second, share, "A7K9M2", ip="10.0.0.2")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and listen.OTHER_DEVICE in html and "Text me a new code" in html

    asked = ask_new_code(second, share, "10.0.0.2")
    assert "We texted a new code" in asked.get_data(as_text=True)
    new_code = re.search(r"is ([A-Z2-9]{6}) ", latest_text(app, PHONE)["body"]).group(1)
    assert enter(second, share, new_code, ip="10.0.0.2").status_code == 303
    assert second.get(stream_url(share, tracks[0])).status_code == 200
    assert first.get(f"/listen/{share.share_token}/play").status_code == 409


def test_new_code_needs_a_matching_code_first_and_owner_credits(app, share, grant, monkeypatch):
    viewer(app, share)
    stranger = app.test_client()
    cold = ask_new_code(stranger, share, "10.0.0.3")
    assert "Enter your code again" in cold.get_data(as_text=True) and latest_text(app, PHONE) is None

    def broke(*args, **kwargs):
        raise NotEnoughCredits(1, 0)

    monkeypatch.setattr(sharing, "resend_code", broke)
    enter(stranger, share, "A7K9M2", ip="10.0.0.3")
    assert "can&#39;t send a new code right now" in ask_new_code(stranger, share, "10.0.0.3").get_data(as_text=True)


def test_new_code_requests_are_rate_limited(app, share, grant, monkeypatch):
    monkeypatch.setattr(sharing, "resend_code", lambda *args, **kwargs: None)
    viewer(app, share)
    second = app.test_client()
    enter(second, share, "A7K9M2", ip="10.0.0.4")
    statuses = [ask_new_code(second, share, "10.0.0.4").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_stream_is_limited_to_the_shared_playlist_and_supports_range(app, owner, share, grant, tracks):
    client = viewer(app, share)
    outside = make_track(owner, size=5000, store=store_from_config(app.config))
    assert client.get(stream_url(share, outside)).status_code == 404
    partial = client.get(stream_url(share, tracks[1]), headers={"Range": "bytes=100-199"})
    assert partial.status_code == 206 and len(partial.data) == 100
    assert app.test_client().get(stream_url(share, tracks[1])).status_code == 404


def test_progress_beacon_records_how_far_the_grant_got(app, share, grant, tracks):
    client = viewer(app, share)
    token = csrf(client, "/login")

    def beacon(track, position, csrf_token=token):
        return client.post(f"/listen/{share.share_token}/progress", data={
            "csrf_token": csrf_token, "track": str(track.id), "position": position}).status_code

    assert [beacon(tracks[0], p) for p in ("0", "42.5", "12")] + [beacon(tracks[1], "0")] == [204] * 4
    assert beacon(tracks[1], "3", csrf_token="") == 400 and beacon(tracks[0], "nan") == 400
    row = db.session.scalar(db.select(GrantListen).where(GrantListen.track_id == tracks[0].id))
    assert row.max_position_seconds == 42.5 and row.plays == 1
    db.session.refresh(share)
    assert share.total_plays == 2


def test_signed_in_recipient_with_verified_phone_goes_straight_to_the_player(app, share, grant):
    recipient = make_profile(phone=PHONE)
    client = app.test_client()
    sign_in(client, recipient.email)
    opened = client.get(f"/listen/{share.share_token}")
    assert opened.status_code == 302 and opened.location.endswith("/play")
    player = client.get(opened.location)
    assert player.status_code == 200 and "Create a free account" not in player.get_data(as_text=True)
    assert db.session.scalar(db.select(PlaylistFollower).where(
        PlaylistFollower.profile_id == recipient.id, PlaylistFollower.source == "sms_share"))
    sign_in(client := app.test_client(), make_profile(phone="+14155550111").email)
    assert client.get(f"/listen/{share.share_token}").status_code == 200


def test_player_shows_expiry_durations_and_signup_without_the_phone(app, share, grant):
    save(share, expires_at=utcnow() + timedelta(days=5, hours=1))
    html = viewer(app, share).get(f"/listen/{share.share_token}/play").get_data(as_text=True)
    assert "Shared by Alex" in html and "Expires in 5 days" in html and "1:01" in html
    assert 'href="/signup"' in html and "<audio" in html


def _holds_the_phone(text):
    """PHONE's digits in any usual spelling: +1 415 555 0100, (415) 555-0100, %2B14155550100, 415.555.0100."""
    return "4155550100" in re.sub(r"[\s().+-]|%2B|&#43;", "", text)


def test_no_page_or_url_of_the_recipient_flow_holds_the_phone_number(app, share, grant, tracks, monkeypatch):
    """QUALITY: no phone number in logs. Access logs hold URLs; pages reach whoever holds the code."""
    monkeypatch.setattr(sharing, "resend_code", lambda *args, **kwargs: None)
    seen = []

    def look(response):
        seen.append(response.headers.get("Location", "") + response.get_data(as_text=True))
        return response

    phone = app.test_client()
    look(phone.get(f"/listen/{share.share_token}"))
    look(enter(phone, share, "ZZZZZZ"))
    entered = look(enter(phone, share, "A7K9M2"))
    player = look(phone.get(entered.location))
    links = re.findall(r'(?:href|src)="([^"]+)"', player.get_data(as_text=True))
    assert any(link.startswith("/signup") for link in links)
    look(phone.get("/signup"))
    second = app.test_client()
    look(enter(second, share, "A7K9M2", ip="10.0.0.2"))
    look(ask_new_code(second, share, ip="10.0.0.2"))
    save(grant, is_revoked=True, revoked_at=utcnow())
    look(phone.get(stream_url(share, tracks[0])))
    look(phone.get(f"/listen/{share.share_token}/play"))
    look(phone.get(f"/listen/{share.share_token}"))
    assert len(seen) == 10 and not [text for text in seen if _holds_the_phone(text)]
    assert _holds_the_phone("/signup?phone=%2B14155550100")  # the check itself sees the old link


@pytest.mark.parametrize("change, status, message", [
    ("revoke", 403, listen.REVOKED), ("share_expiry", 410, listen.SHARE_EXPIRED),
    ("grant_expiry", 410, listen.CODE_EXPIRED),
])
def test_after_a_refused_track_the_next_page_load_tells_the_true_reason(
        app, share, grant, tracks, change, status, message):
    client = viewer(app, share)
    {"revoke": lambda: save(grant, is_revoked=True, revoked_at=utcnow()),
     "share_expiry": lambda: save(share, expires_at=past()),
     "grant_expiry": lambda: save(grant, expires_at=past())}[change]()
    assert client.get(stream_url(share, tracks[0])).status_code == status
    for _ in range(2):  # and again on a second reload: the reason does not decay into "not valid"
        page = client.get(f"/listen/{share.share_token}/play")
        assert page.status_code == status and message in page.get_data(as_text=True)
        assert "<audio" not in page.get_data(as_text=True)
    # The link from the text message says it too, once, then offers the code form again.
    link = client.get(f"/listen/{share.share_token}")
    assert message in link.get_data(as_text=True) and "<audio" not in link.get_data(as_text=True)


@pytest.mark.parametrize("left, text", [
    (timedelta(days=7), "Expires in 7 days"), (timedelta(days=1, hours=2), "Expires tomorrow"),
    (timedelta(hours=3), "Expires in 3 hours"), (timedelta(minutes=20), "Expires in under an hour"),
    (None, "Never expires"),
])
def test_player_expiry_reads_naturally(app, share, grant, left, text):
    save(share, expires_at=utcnow() + left if left else None)
    html = viewer(app, share).get(f"/listen/{share.share_token}/play").get_data(as_text=True)
    assert f"· {text}" in html


def test_the_earlier_of_share_and_grant_expiry_is_shown(app, share, grant):
    save(share, expires_at=utcnow() + timedelta(days=7))
    save(grant, expires_at=utcnow() + timedelta(hours=5))
    html = viewer(app, share).get(f"/listen/{share.share_token}/play").get_data(as_text=True)
    assert "Expires in 5 hours" in html


@pytest.fixture
def statements(app):
    """The SQL statements run while the test holds this list (appended as they run)."""
    seen = []

    def note(conn, cursor, sql, *rest):
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def test_player_page_runs_two_queries_whatever_the_number_of_tracks(app, owner, share, grant, tracks, statements):
    """Access (share, grant, names) in one query, the track list in another; no N+1, no access cache."""
    client = viewer(app, share)
    play = f"/listen/{share.share_token}/play"
    statements.clear()
    assert client.get(play).status_code == 200
    few = len(statements)
    store = store_from_config(app.config)
    more = [make_track(owner, size=10, title=f"More {n}", store=store) for n in range(7)]
    playlist_items = db.session.scalar(db.select(db.func.count()).select_from(PlaylistTrack))
    db.session.add_all(PlaylistTrack(playlist_id=share.playlist_id, track_id=track.id, position=playlist_items + n,
                                     added_by=owner.id) for n, track in enumerate(more))
    db.session.commit()
    statements.clear()
    html = client.get(play).get_data(as_text=True)
    assert "More 6" in html and "10 tracks" in html
    assert few == len(statements) == 2, statements
    # The access decision is not cached: a revoke between two views refuses the second.
    save(grant, is_revoked=True, revoked_at=utcnow())
    assert client.get(play).status_code == 403


def test_player_notes_the_visit_at_most_once_a_minute(app, share, grant):
    client = viewer(app, share)
    save(grant, last_accessed_at=utcnow() - timedelta(minutes=5))
    client.get(f"/listen/{share.share_token}/play")
    db.session.refresh(grant)
    seen = grant.last_accessed_at
    assert utcnow() - seen < timedelta(seconds=30)
    client.get(f"/listen/{share.share_token}/play")
    db.session.refresh(grant)
    assert grant.last_accessed_at == seen


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _wav(seconds=2.0, rate=8000):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


@pytest.mark.parametrize("backend", ["sqlite"])  # the script is under test here, not the database
@pytest.mark.parametrize("change, says, reason", [
    ("revoke", "Access to this playlist has ended", listen.REVOKED),
    ("end", "no longer available", listen.NOT_VALID),
])
def test_player_script_says_so_when_a_track_is_refused(app, share, grant, tracks, change, says, reason):
    """listen.js in Chromium: a refused track shows a message, then the page reloads to the reason."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    store = store_from_config(app.config)
    for track in tracks:
        store.save(track.storage_key, io.BytesIO(_wav()))
    phone, base = viewer(app, share), "http://coretet.test"

    def serve(route):
        """Every request of the page goes through the test client, so the app answers as it would."""
        request = route.request
        headers = {name: value for name, value in request.headers.items() if name.lower() in ("range", "content-type")}
        answer = phone.open(request.url[len(base):], method=request.method, headers=headers,
                            data=request.post_data_buffer)
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.get_data())

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--mute-audio", "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page()
            page.route(f"{base}/**", serve)
            page.goto(f"{base}/listen/{share.share_token}/play")
            page.wait_for_function("document.getElementById('audio').readyState >= 1", timeout=10_000)
            assert page.locator("#problem").is_hidden()
            {"revoke": lambda: save(grant, is_revoked=True, revoked_at=utcnow()),
             "end": lambda: save(share, is_active=False, ended_at=utcnow())}[change]()
            page.locator("a.track").nth(1).click()
            sync_api.expect(page.locator("#problem")).to_contain_text(says, timeout=10_000)
            sync_api.expect(page.locator("#problem")).to_contain_text("Show why")
            # Then the reload shows the server's own reason, with no player left.
            sync_api.expect(page.get_by_role("alert")).to_contain_text(reason, timeout=15_000)
            assert page.locator("audio").count() == 0
        finally:
            browser.close()


def test_each_listen_page_weighs_under_60_kb(app, share, grant):
    def weight(client, path):
        page = client.get(path)
        assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', page.get_data(as_text=True))
        assert assets and page.status_code == 200
        return len(page.data) + sum(len(client.get(asset).data) for asset in assets)

    assert weight(app.test_client(), f"/listen/{share.share_token}") < 60_000
    assert weight(viewer(app, share), f"/listen/{share.share_token}/play") < 60_000
