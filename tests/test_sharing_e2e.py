"""The whole SMS share, as people do it: owner shares, the worker texts through Twilio's SDK,
the recipient enters the code and listens, the owner sees it and revokes, the recipient is refused."""
import re

import pytest
from sqlalchemy import select

from coretet.extensions import db
from coretet.jobs import make_worker, redis_connection
from coretet.models import AccessGrant, SmsMessage
from coretet.services.filestore import store_from_config
from tests.auth_helpers import csrf, csrf_from, sign_in
from tests.conftest import build_app, empty_database
from tests.factories import make_playlist, make_profile, make_track

PHONES = ("(201) 555-0123", "201.555.0124")


@pytest.fixture
def rq_app(postgres_url, redis_url, tmp_path, fake_api):
    app = build_app(postgres_url, tmp_path, redis_url=redis_url, SMS_BACKEND="twilio",
                    TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="secret",
                    TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32, TWILIO_API_BASE=fake_api.url)
    with app.app_context():
        redis_connection().flushdb()
        yield app
    empty_database(app)


def test_share_send_listen_see_and_revoke(rq_app, fake_api):
    owner_client, phone = rq_app.test_client(), rq_app.test_client()
    alex = make_profile(email="alex@example.com", name="Alex", tier="band", phone="+12015550100")
    store = store_from_config(rq_app.config)
    playlist = make_playlist(alex, [make_track(alex, size=4000, store=store), make_track(alex, store=store)],
                             title="Summer EP Demos")
    sign_in(owner_client, "alex@example.com")

    share_url = f"/w/me/playlists/{playlist.id}/share"
    dialog = owner_client.get(share_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    form = {"csrf_token": csrf(owner_client, f"/w/me/playlists/{playlist.id}"), "expiry": "7",
            "recipients-0-phone": PHONES[0], "recipients-0-display_name": "Sam",
            "recipients-1-phone": PHONES[1], "recipients-1-display_name": ""}
    assert "Send access codes" in dialog
    sent = owner_client.post(share_url, data=form, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert sent.count("queued") >= 2 and "Sam" in sent
    assert [m.status for m in db.session.scalars(select(SmsMessage))] == ["queued", "queued"]

    fake_api.script += [(201, {"sid": f"SM{n}" + "a" * 31, "status": "queued"}) for n in range(2)]
    make_worker(rq_app, ["sms"], simple=True).work(burst=True)
    posts = [r for r in fake_api.received if r.method == "POST" and r.path.endswith("/Messages.json")]
    assert sorted(p.form["To"][0] for p in posts) == ["+12015550123", "+12015550124"]
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(select(SmsMessage))} == {"sent"}

    text = next(p.form["Body"][0] for p in posts if p.form["To"] == ["+12015550123"])
    assert len(text) <= 160 and "Summer EP Demos" in text
    link = re.search(r"https?://\S+/listen/(\S+)", text)
    token, code = link.group(1), re.search(r"Code ([A-Z2-9]{6})", text).group(1)

    page = phone.get(f"/listen/{token}").get_data(as_text=True)
    assert "Alex" in page and "Summer EP Demos" in page
    entered = phone.post(f"/listen/{token}", data={"code": code.lower(), "csrf_token": csrf_from(page)})
    assert entered.status_code == 303
    player = phone.get(f"/listen/{token}/play").get_data(as_text=True)
    stream = re.search(r'(/listen/[^"\s]+/tracks/[^"\s]+/stream)', player).group(1)
    audio = phone.get(stream, headers={"Range": "bytes=0-1"})
    assert audio.status_code == 206

    manage = owner_client.get(f"/w/me/playlists/{playlist.id}/shares", headers={"HX-Request": "true"})
    db.session.expire_all()
    grant = db.session.scalars(select(AccessGrant).where(AccessGrant.access_count == 1)).one()
    assert "•" in manage.get_data(as_text=True) and "0123" in manage.get_data(as_text=True)

    share_id = grant.shared_playlist_id
    revoke = owner_client.delete(f"/w/me/playlists/{playlist.id}/shares/{share_id}/grants/{grant.id}",
                                 headers={"HX-Request": "true", "X-CSRFToken": csrf_from(dialog)})
    assert revoke.status_code == 200
    refused = phone.get(f"/listen/{token}/play")
    assert refused.status_code == 403 and "withdrawn" in refused.get_data(as_text=True)
    assert phone.get(stream, headers={"Range": "bytes=0-1"}).status_code in (403, 404)
