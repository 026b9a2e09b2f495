"""Comments on a track version (SPEC §9): threads, permissions, tier gates and voice memos counted in storage."""
import io
import re
import uuid
from pathlib import Path

import numpy
import pytest
import soundfile
from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import Band, Profile, Track, TrackComment
from coretet.services import comments
from coretet.services.audio import NotAudioError, sniff_voice
from coretet.services.filestore import store_from_config
from coretet.services.uploads import delete_track, sweep_orphans
from tests.auth_helpers import csrf, sign_in
from tests.factories import make_band, make_comment, make_profile, make_track
from tests.test_audio import png_bytes, wav_bytes

HX = {"HX-Request": "true"}
CHROMIUM_MEMO = Path(__file__).parent / "fixtures" / "chromium-voice-memo.webm"  # MediaRecorder, 2 s, Opus


def _element(element_id, payload, unknown_size=False):
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown_size else b"\x01" + len(payload).to_bytes(7, "big")
    return element_id + size + payload


def webm(seconds):
    """A WebM/Opus file shaped like a MediaRecorder stream (unknown sizes, no duration), `seconds` long."""
    header = _element(b"\x1a\x45\xdf\xa3", _element(b"\x42\x82", b"webm"))
    info = _element(b"\x15\x49\xa9\x66", _element(b"\x2a\xd7\xb1", (1_000_000).to_bytes(3, "big")))
    entry = _element(b"\xd7", b"\x01") + _element(b"\x83", b"\x02") + _element(b"\x86", b"A_OPUS")
    tracks = _element(b"\x16\x54\xae\x6b", _element(b"\xae", entry))
    clusters = b""
    for start in range(0, int(seconds * 1000), 1000):
        # 20 ms Opus packets (TOC 0xFC), one every 100 ms; the last one ends 20 ms after it starts.
        blocks = b"".join(_element(b"\xa3", b"\x81" + rel.to_bytes(2, "big", signed=True) + b"\x80\xfc\xff\xfe")
                          for rel in range(0, 1000, 100))
        clusters += _element(b"\x1f\x43\xb6\x75", _element(b"\xe7", start.to_bytes(4, "big")) + blocks, True)
    return header + _element(b"\x18\x53\x80\x67", info + tracks + clusters, True)


def ogg_opus(seconds):
    """What Firefox's MediaRecorder makes: Ogg/Opus."""
    buffer = io.BytesIO()
    samples = 0.3 * numpy.sin(numpy.linspace(0, 440 * 2 * numpy.pi * seconds, int(48000 * seconds)))
    soundfile.write(buffer, samples, 48000, format="OGG", subtype="OPUS")
    return buffer.getvalue()


@pytest.fixture
def world(app):
    """A paid band (Alex owns it, Sam and Kim are members) with a 3-minute track; Olga is outside."""
    alex = make_profile(email="alex@example.com", name="Alex", tier="band")
    sam = make_profile(email="sam@example.com", name="Sam")
    kim = make_profile(email="kim@example.com", name="Kim")
    olga = make_profile(email="olga@example.com", name="Olga", tier="band")
    band = make_band(alex, members=[sam, kim])
    store = store_from_config(app.config)
    track = make_track(alex, band=band, duration=180.0, size=1000, store=store)
    return {"alex": alex, "sam": sam, "kim": kim, "olga": olga, "band": band, "track": track, "store": store}


def url(world, suffix="", track=None):
    track = track or world["track"]
    return f"/w/{track.band_id or 'me'}/tracks/{track.id}/comments{suffix}"


def as_user(client, profile):
    """Sign in as this profile (signing out whoever was signed in); the headers htmx sends."""
    page = client.get("/w/me")
    if page.status_code == 200:
        client.post("/logout", data={"csrf_token": csrf(client, "/w/me")})
    sign_in(client, profile.email)
    return {"X-CSRFToken": csrf(client, "/w/me"), **HX}


def post(client, headers, path, **data):
    files = {}
    if "voice" in data:
        payload, name = data.pop("voice")
        files["voice"] = (io.BytesIO(payload), name, "audio/webm;codecs=opus")
    return client.post(path, data={**data, **files}, headers=headers, content_type="multipart/form-data")


def all_comments():
    db.session.expire_all()
    return db.session.scalars(select(TrackComment).order_by(TrackComment.created_at)).all()


def usage(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id).storage_used


# Threads ---------------------------------------------------------------------------------------

def test_members_comment_and_reply_in_one_level_threads(world, client):
    headers = as_user(client, world["sam"])
    first = post(client, headers, url(world), body="Love the bridge")
    assert first.status_code == 200 and "Love the bridge" in first.get_data(as_text=True)
    top = all_comments()[0]
    reply = post(client, headers, url(world), body="Agreed", parent_id=str(top.id))
    reply_id = all_comments()[1].id
    nested = post(client, headers, url(world), body="Reply to the reply", parent_id=str(reply_id))

    assert reply.status_code == nested.status_code == 200
    top_row, second, third = all_comments()
    assert second.parent_id == top.id and third.parent_id == top.id  # one level: a reply to a reply joins the thread
    thread = comments.thread(world["track"])
    assert [len(entry.replies) for entry in thread] == [2]
    html = nested.get_data(as_text=True)
    assert html.index("Love the bridge") < html.index("Agreed") < html.index("Reply to the reply")
    assert nested.headers["HX-Trigger"] == '{"commentPosted": true}'


def test_a_reply_to_a_comment_of_another_track_is_404(world, client):
    other = make_track(world["alex"], band=world["band"])
    foreign = make_comment(world["alex"], other)
    headers = as_user(client, world["sam"])
    response = post(client, headers, url(world), body="hi", parent_id=str(foreign.id))
    assert response.status_code == 404
    assert len(all_comments()) == 1


def test_only_members_can_read_or_write_comments(world, client):
    make_comment(world["alex"], world["track"], body="Secret notes")
    headers = as_user(client, world["olga"])
    assert client.get(url(world), headers=HX).status_code == 404
    assert post(client, headers, url(world), body="let me in").status_code == 404
    assert client.get(f"/w/{world['band'].id}/tracks/{world['track'].id}/collab", headers=HX).status_code == 404
    assert len(all_comments()) == 1


def test_empty_or_overlong_comments_are_refused_with_a_message(world, client):
    headers = as_user(client, world["sam"])
    empty = post(client, headers, url(world), body="   \n ")
    assert empty.status_code == 422 and "Write a comment first." in empty.get_data(as_text=True)
    assert empty.headers["HX-Retarget"] == "#comment-form-error"
    long = post(client, headers, url(world), body="x" * 2001)
    assert long.status_code == 422 and "up to 2000 characters" in long.get_data(as_text=True)
    parent = make_comment(world["alex"], world["track"])
    bad_reply = post(client, headers, url(world), body="", parent_id=str(parent.id),
                     error_target="#comment-reply-error-" + str(uuid.uuid4()))
    assert bad_reply.status_code == 422 and bad_reply.headers["HX-Retarget"].startswith("#comment-reply-error-")
    assert post(client, {**HX}, url(world), body="no token").status_code == 400
    assert len(all_comments()) == 1


# Editing and deleting ----------------------------------------------------------------------------

def test_only_the_author_edits_and_edits_are_marked(world, client):
    mine = make_comment(world["sam"], world["track"], body="Bass too loud")
    theirs = make_comment(world["alex"], world["track"], body="Fixed in v2")
    headers = as_user(client, world["sam"])

    form = client.get(url(world, f"/{mine.id}/edit"), headers=HX)
    assert form.status_code == 200 and "Bass too loud" in form.get_data(as_text=True)
    saved = client.post(url(world, f"/{mine.id}"), data={"body": "Bass a bit loud"}, headers=headers)
    assert saved.status_code == 200 and "edited" in saved.get_data(as_text=True)

    assert client.get(url(world, f"/{theirs.id}/edit"), headers=HX).status_code == 403
    refused = client.post(url(world, f"/{theirs.id}"), data={"body": "hacked"}, headers=headers)
    assert refused.status_code == 403
    assert "Only the person who wrote a comment can edit it." in refused.get_data(as_text=True)
    assert refused.headers["HX-Retarget"] == "#notices"
    blank = client.post(url(world, f"/{mine.id}"), data={"body": " "}, headers=headers)
    assert blank.status_code == 422 and "Delete it instead" in blank.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(TrackComment, mine.id).body, db.session.get(TrackComment, theirs.id).body) == \
        ("Bass a bit loud", "Fixed in v2")
    assert db.session.get(TrackComment, mine.id).edited_at is not None


def test_members_delete_only_their_own_but_band_owners_and_admins_may_tidy(world, client):
    by_alex = make_comment(world["alex"], world["track"], body="Owner's note")
    by_kim = make_comment(world["kim"], world["track"], body="Kim's take")
    reply = make_comment(world["sam"], world["track"], body="Sam's reply", parent=by_kim)

    headers = as_user(client, world["sam"])
    refused = client.delete(url(world, f"/{by_alex.id}"), headers=headers)
    assert refused.status_code == 403
    assert "Only the person who wrote a comment, or a band admin, can delete it." in refused.get_data(as_text=True)
    assert client.delete(url(world, f"/{reply.id}"), headers=headers).status_code == 200

    headers = as_user(client, world["alex"])  # the band's owner moderates
    removed = client.delete(url(world, f"/{by_kim.id}"), headers=headers)
    assert removed.status_code == 200 and "Kim&#39;s take" not in removed.get_data(as_text=True)
    assert [c.body for c in all_comments()] == ["Owner's note"]


def test_a_comment_id_from_another_track_or_band_is_404(world, client):
    other_band = make_band(world["olga"])
    foreign_track = make_track(world["olga"], band=other_band)
    foreign = make_comment(world["olga"], foreign_track, body="Other band")
    sibling = make_track(world["alex"], band=world["band"])
    neighbour = make_comment(world["alex"], sibling, body="Other track")
    headers = as_user(client, world["alex"])
    for comment_id in (foreign.id, neighbour.id, uuid.uuid4(), "not-an-id"):
        assert client.get(url(world, f"/{comment_id}"), headers=HX).status_code == 404
        assert client.delete(url(world, f"/{comment_id}"), headers=headers).status_code == 404
        assert client.get(url(world, f"/{comment_id}/voice")).status_code == 404
    assert len(all_comments()) == 2


# Tier gates ------------------------------------------------------------------------------------

def test_free_accounts_get_the_upgrade_modal_for_timestamps_and_voice(app, client):
    free = make_profile(email="free@example.com", tier="free")
    track = make_track(free, duration=60.0)
    headers = as_user(client, free)
    path = f"/w/me/tracks/{track.id}/comments"

    timed = post(client, headers, path, body="Here", position="12.5")
    voiced = post(client, headers, path, body="", voice=(CHROMIUM_MEMO.read_bytes(), "memo.webm"))
    panel = client.get(f"/w/me/tracks/{track.id}/collab", headers=HX).get_data(as_text=True)
    modal = client.get("/w/me/collab/upgrade?feature=voice_comments", headers=HX)

    for refused in (timed, voiced):
        assert refused.status_code == 403
        assert refused.headers["HX-Retarget"] == "#modal"
        assert 'id="upgrade-modal"' in refused.get_data(as_text=True)
    assert "Comments at a moment in the track are not part of the Free plan." in timed.get_data(as_text=True)
    assert "Voice memo comments are not part of the Free plan." in voiced.get_data(as_text=True)
    assert 'data-timestamps="locked"' in panel and "feature=voice_comments" in panel
    assert modal.status_code == 200 and 'id="upgrade-modal"' in modal.get_data(as_text=True)
    assert post(client, headers, path, body="Plain comments are free").status_code == 200
    assert [c.body for c in all_comments()] == ["Plain comments are free"]
    assert usage(free) == 1000


def test_band_tier_comments_at_a_moment_within_the_track(world, client):
    headers = as_user(client, world["sam"])  # Sam is on Free, but the band is paid for
    at = post(client, headers, url(world), body="Drums drop out", position="83.456")
    assert at.status_code == 200
    html = at.get_data(as_text=True)
    assert "at 1:23" in html
    assert '"seconds": 83.46' in html.replace("&#34;", '"')  # the waveform markers
    past = post(client, headers, url(world), body="After the end", position="181")
    assert past.status_code == 422 and "past the end of the track (3:00)" in past.get_data(as_text=True)
    for bad in ("-1", "soon", "nan"):
        assert post(client, headers, url(world), body="?", position=bad).status_code == 422
    assert [c.position_seconds for c in all_comments()] == [83.46]
    assert client.get(f"/w/{world['band'].id}/collab/upgrade", headers=HX).status_code == 204


def test_a_read_only_band_keeps_plain_comments_but_locks_the_band_features(world, client):
    world["band"].read_only = True
    db.session.commit()
    headers = as_user(client, world["alex"])
    assert post(client, headers, url(world), body="Still talking").status_code == 200
    assert post(client, headers, url(world), body="At", position="3").status_code == 403


# Voice memos -------------------------------------------------------------------------------------

def test_chromium_mediarecorder_webm_is_measured_from_its_blocks():
    info = sniff_voice(CHROMIUM_MEMO)
    assert (info.kind, info.content_type) == ("webm", "audio/webm")
    assert info.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_webm_and_ogg_memos_are_measured_by_content(tmp_path):
    for name, payload, seconds in (("long.webm", webm(35), 34.92), ("short.webm", webm(5), 4.92),
                                   ("firefox.ogg", ogg_opus(3), 3.0)):
        path = tmp_path / name
        path.write_bytes(payload)
        assert sniff_voice(path).duration_seconds == pytest.approx(seconds, abs=0.05)
    junk = tmp_path / "junk.webm"
    for payload in (b"\x1a\x45\xdf\xa3" + b"\x00" * 40, png_bytes(), b"hello", webm(5)[:60]):
        junk.write_bytes(payload)
        with pytest.raises(NotAudioError):
            sniff_voice(junk)


def test_a_voice_memo_is_stored_and_counted_against_the_band(world, client):
    headers = as_user(client, world["kim"])
    memo = CHROMIUM_MEMO.read_bytes()
    response = post(client, headers, url(world), body="Try this melody", voice=(memo, "blob"))
    assert response.status_code == 200
    comment = all_comments()[0]
    assert (comment.voice_size, comment.voice_content_type) == (len(memo), "audio/webm")
    assert comment.voice_duration == pytest.approx(2.0, abs=0.1)
    assert comment.voice_storage_key.startswith("voice/")
    assert world["store"].exists(comment.voice_storage_key)
    assert usage(world["band"]) == 1000 + len(memo)
    assert usage(world["kim"]) == 0
    assert "Voice memo · 0:02" in response.get_data(as_text=True)

    streamed = client.get(url(world, f"/{comment.id}/voice"), headers={"Range": "bytes=0-99"})
    assert streamed.status_code == 206 and streamed.data == memo[:100]
    assert streamed.headers["Content-Type"] == "audio/webm"

    # the orphan sweep knows memo files belong to comments
    assert sweep_orphans(world["store"], older_than_seconds=-1) == []
    assert world["store"].exists(comment.voice_storage_key)


def test_a_voice_memo_in_a_personal_space_counts_against_its_owner(app, client):
    me = make_profile(email="me@example.com", tier="band")
    track = make_track(me, duration=60.0, size=500)
    headers = as_user(client, me)
    payload = ogg_opus(2)
    response = post(client, headers, f"/w/me/tracks/{track.id}/comments", body="", voice=(payload, "m.ogg"))
    assert response.status_code == 200
    assert usage(me) == 500 + len(payload)
    assert all_comments()[0].voice_content_type == "audio/opus"


def test_memos_over_30_seconds_or_not_audio_are_refused(world, client):
    headers = as_user(client, world["sam"])
    cases = [
        (webm(35), "up to 30 seconds; this one is 0:35"),
        (wav_bytes(rate=8000, seconds=31), "up to 30 seconds; this one is 0:31"),
        (png_bytes(), "isn&#39;t audio CoreTet can play"),
        (b"just text, labelled audio/webm", "isn&#39;t audio CoreTet can play"),
        (b"", "The recording is empty"),
    ]
    for payload, message in cases:
        refused = post(client, headers, url(world), body="memo", voice=(payload, "memo.webm"))
        assert refused.status_code == 422, message
        assert message in refused.get_data(as_text=True)
    assert post(client, headers, url(world), body="", voice=(webm(30), "ok.webm")).status_code == 200
    assert len(all_comments()) == 1
    assert usage(world["band"]) == 1000 + len(webm(30))
    assert sorted(world["store"].keys()) == sorted([world["track"].storage_key, all_comments()[0].voice_storage_key])


def test_a_full_quota_refuses_the_memo_and_leaves_nothing_behind(world, client):
    band = db.session.get(Band, world["band"].id)
    band.storage_limit = band.storage_used + 100
    db.session.commit()
    headers = as_user(client, world["sam"])
    refused = post(client, headers, url(world), body="", voice=(CHROMIUM_MEMO.read_bytes(), "m.webm"))
    assert refused.status_code == 422
    assert "This voice memo is 23.9 KB, but only 100 B is left" in refused.get_data(as_text=True)
    assert all_comments() == [] and usage(world["band"]) == 1000
    assert world["store"].keys() == {world["track"].storage_key}
    assert list(world["store"].staging_dir().iterdir()) == []


def test_a_memo_that_lands_exactly_on_the_limit_is_allowed(world, client):
    memo = CHROMIUM_MEMO.read_bytes()
    band = db.session.get(Band, world["band"].id)
    band.storage_limit = band.storage_used + len(memo)
    db.session.commit()
    headers = as_user(client, world["sam"])
    assert post(client, headers, url(world), body="", voice=(memo, "m.webm")).status_code == 200
    assert usage(world["band"]) == band.storage_limit


def test_deleting_the_comment_or_the_track_credits_the_memo_back(world, client):
    memo = CHROMIUM_MEMO.read_bytes()
    headers = as_user(client, world["sam"])
    post(client, headers, url(world), body="one", voice=(memo, "a.webm"))
    first = all_comments()[0]
    post(client, headers, url(world), body="two", voice=(memo, "b.webm"), parent_id=str(first.id))
    reply_id, reply_key = all_comments()[1].id, all_comments()[1].voice_storage_key
    assert usage(world["band"]) == 1000 + 2 * len(memo)

    assert client.delete(url(world, f"/{reply_id}"), headers=headers).status_code == 200
    assert usage(world["band"]) == 1000 + len(memo)
    assert not world["store"].exists(reply_key)

    delete_track(world["store"], db.session.get(Track, world["track"].id))
    assert usage(world["band"]) == 0
    assert all_comments() == []
    assert world["store"].keys() == set()


def test_deleting_a_thread_deletes_its_replies_and_their_memos(world, client):
    memo = CHROMIUM_MEMO.read_bytes()
    top = make_comment(world["sam"], world["track"], body="top")
    headers = as_user(client, world["kim"])
    post(client, headers, url(world), body="", voice=(memo, "r.webm"), parent_id=str(top.id))
    key = all_comments()[1].voice_storage_key
    headers = as_user(client, world["sam"])
    assert client.delete(url(world, f"/{top.id}"), headers=headers).status_code == 200
    assert all_comments() == [] and usage(world["band"]) == 1000 and not world["store"].exists(key)


# Live thread and versions -------------------------------------------------------------------------

def test_the_polling_thread_answers_204_until_something_changes(world, client):
    headers = as_user(client, world["sam"])
    first = client.get(url(world), headers=HX)
    version = re.search(r'data-version="([^"]+)"', first.get_data(as_text=True)).group(1)
    assert client.get(url(world), query_string={"since": version}, headers=HX).status_code == 204

    make_comment(world["kim"], world["track"], body="New from Kim")
    fresh = client.get(url(world), query_string={"since": version}, headers=HX)
    assert fresh.status_code == 200 and "New from Kim" in fresh.get_data(as_text=True)
    version = re.search(r'data-version="([^"]+)"', fresh.get_data(as_text=True)).group(1)
    assert client.get(url(world), query_string={"since": version}, headers=HX).status_code == 204

    comment = all_comments()[0]
    headers = as_user(client, world["kim"])
    client.post(url(world, f"/{comment.id}"), data={"body": "Edited by Kim"}, headers=headers)
    edited = client.get(url(world), query_string={"since": version}, headers=HX)
    assert edited.status_code == 200 and "Edited by Kim" in edited.get_data(as_text=True)
    assert 'hx-trigger="every 5s' in edited.get_data(as_text=True)


def test_comments_belong_to_the_version_they_were_made_on(world, client):
    v1 = world["track"]
    v2 = Track(title=v1.title, storage_key=f"test/{uuid.uuid4().hex}", file_size=10, duration_seconds=180.0,
               content_type="audio/wav", created_by=world["alex"].id, band_id=world["band"].id,
               lineage_id=v1.lineage_id, version_number=2)
    db.session.add(v2)
    db.session.commit()
    old = make_comment(world["sam"], v1, body="On the first mix")
    headers = as_user(client, world["sam"])
    post(client, headers, url(world, track=v2), body="On the second mix")

    assert "On the first mix" in client.get(url(world), headers=HX).get_data(as_text=True)
    on_v2 = client.get(url(world, track=v2), headers=HX).get_data(as_text=True)
    assert "On the second mix" in on_v2 and "On the first mix" not in on_v2
    assert client.get(url(world, f"/{old.id}", track=v2), headers=HX).status_code == 404
    assert {c.body: c.track_id for c in all_comments()} == {"On the first mix": v1.id, "On the second mix": v2.id}


def test_the_track_panel_shows_the_thread_markers_and_form(world, client):
    make_comment(world["sam"], world["track"], body="Chorus lift", position=61.0)
    make_comment(world["kim"], world["track"], body="General thought")
    as_user(client, world["alex"])
    panel = client.get(f"/w/{world['band'].id}/tracks/{world['track'].id}/collab", headers=HX).get_data(as_text=True)
    assert 'id="comment-form"' in panel and 'data-timestamps="on"' in panel and "data-voice-start" in panel
    markers = re.search(r"data-markers='([^']*)'", panel).group(1)
    assert '"label": "Sam: Chorus lift"' in markers and '"seconds": 61.0' in markers and "General" not in markers
    assert panel.count('class="comment') >= 2


def test_comment_figures_need_no_query_per_comment(world, client):
    from sqlalchemy import event

    def queries():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/w/{world['band'].id}/tracks/{world['track'].id}/collab", headers=HX).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    as_user(client, world["alex"])
    make_comment(world["sam"], world["track"], body="one")
    few = queries()
    for n in range(15):
        top = make_comment(world["kim"], world["track"], body=f"c{n}", position=float(n))
        make_comment(world["sam"], world["track"], body=f"r{n}", parent=top)
    assert queries() == few


def test_storage_figures_match_the_rows_after_memo_churn(world, client):
    headers = as_user(client, world["sam"])
    for _ in range(3):
        post(client, headers, url(world), body="", voice=(CHROMIUM_MEMO.read_bytes(), "m.webm"))
    client.delete(url(world, f"/{all_comments()[0].id}"), headers=headers)
    db.session.expire_all()
    memos = db.session.scalar(select(func.sum(TrackComment.voice_size)))
    track = db.session.get(Track, world["track"].id)
    assert track.attached_bytes == memos
    assert usage(world["band"]) == track.file_size + memos
    assert db.session.get(Profile, world["sam"].id).storage_used == 0
