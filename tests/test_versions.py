"""Versions (SPEC §9): v1 → v2 → v3 with notes, playlists play the latest, deletes hand over, A/B compare."""
import io
import math
import re
import threading

import pytest
from sqlalchemy import event, func, select

from coretet.extensions import db
from coretet.models import Band, PlaylistTrack, Profile, Track
from coretet.services import versions
from coretet.services.filestore import store_from_config
from coretet.services.keys import keys_from_config
from coretet.services.uploads import store_upload
from coretet.services.workspaces import Workspace, playlist_tracks
from tests.auth_helpers import csrf, sign_in
from tests.factories import make_band, make_playlist, make_profile, make_track, make_version
from tests.share_factories import add_grant, make_share
from tests.test_audio import wav_bytes
from tests.test_playlists import count_queries
from tests.test_tracks import upload

HX = {"HX-Request": "true"}


@pytest.fixture
def alex(app, client):
    profile = make_profile(email="alex@example.com", name="Alex", tier="band")
    sign_in(client, profile.email)
    return profile


def post_version(client, track, ws="me", body=None, notes="", name="take.wav"):
    token = csrf(client, f"/w/{ws}")
    data = {"notes": notes}
    if body is not False:
        data["file"] = (io.BytesIO(body or wav_bytes(seconds=0.6)), name)
    return client.post(f"/w/{ws}/tracks/{track.id}/versions", data=data, content_type="multipart/form-data",
                       headers={"X-CSRFToken": token, **HX})


def rows(lineage_id):
    db.session.expire_all()
    return db.session.scalars(select(Track).where(Track.lineage_id == lineage_id)
                              .order_by(Track.version_number)).all()


def song(owner, count, band=None, store=None, durations=None):
    """A song with `count` versions (v1..vN), returned in order."""
    durations = durations or [30.0 + n for n in range(count)]
    first = make_track(owner, band=band, title="Night Drive", duration=durations[0], store=store)
    chain = [first]
    for n in range(1, count):
        chain.append(make_version(first, notes=f"change {n + 1}", duration=durations[n], store=store))
    return chain


def test_new_versions_form_a_chain_with_notes_in_order(app, client, alex):
    assert upload(client, name="Night Drive.wav").status_code == 200
    v1 = db.session.scalar(select(Track))
    second = post_version(client, v1, notes="fixed bass", name="anything.wav")
    assert second.status_code == 204 and "storageChanged" in second.headers["HX-Trigger"]
    third = post_version(client, v1, notes="vocals up 2 dB")
    chain = rows(v1.id)
    assert [(t.version_number, t.title, t.version_notes) for t in chain] == [
        (1, "Night Drive", ""), (2, "Night Drive", "fixed bass"), (3, "Night Drive", "vocals up 2 dB")]
    assert third.headers["HX-Redirect"] == f"/w/me/tracks/{chain[2].id}"
    assert all(t.lineage_id == v1.id and t.analysis_status == "done" for t in chain)

    page = client.get(f"/w/me/tracks/{v1.id}").get_data(as_text=True)
    listed = re.findall(r'class="version-label"[^>]*>v(\d)<', page)
    assert listed == ["3", "2", "1"], "newest first"
    assert "vocals up 2 dB" in page and "fixed bass" in page and "Alex" in page
    assert page.count('class="badge ok">latest<') == 1 and "earlier version" in page
    assert len(re.findall(r'data-version-src="/w/me/tracks/[0-9a-f-]+/stream"', page)) == 3
    assert f'<audio id="track-audio" controls preload="metadata" data-track-id="{v1.id}" data-ws="me"' in page
    assert '{% include' not in page and "Upload v4" in page


def test_a_version_upload_is_checked_like_any_upload(app, client, alex):
    v1 = make_track(alex)
    missing = post_version(client, v1, body=False)
    assert missing.status_code == 422 and "Choose the audio file" in missing.get_data(as_text=True)
    text = post_version(client, v1, body=b"just some notes about the song\n" * 40, name="v2.mp3")
    assert text.status_code == 422 and "audio CoreTet can play" in text.get_data(as_text=True)
    long_notes = post_version(client, v1, notes="x" * 2001)
    assert long_notes.status_code == 422 and "2000 characters" in long_notes.get_data(as_text=True)
    app.config["MAX_UPLOAD_BYTES"] = 1000
    assert post_version(client, v1).status_code == 413
    assert len(rows(v1.id)) == 1


def test_quota_is_enforced_for_versions(app, client, alex):
    store = store_from_config(app.config)
    v1 = make_track(alex, size=5000, store=store)
    alex.storage_limit = 5000 + 100
    db.session.commit()
    response = post_version(client, v1)
    assert response.status_code == 422 and "Delete tracks" in response.get_data(as_text=True)
    assert len(rows(v1.id)) == 1 and store.keys() == {v1.storage_key}
    assert db.session.get(Profile, alex.id).storage_used == 5000


def test_the_workspace_list_shows_one_row_per_song_at_its_latest_version(app, client, alex):
    v1, v2, v3 = song(alex, 3)
    single = make_track(alex, title="Solo")
    page = client.get("/w/me").get_data(as_text=True)
    assert f'id="track-{v3.id}"' in page and f'id="track-{single.id}"' in page
    assert f'id="track-{v1.id}"' not in page and f'id="track-{v2.id}"' not in page
    assert re.search(r'class="badge version-badge"[^>]*>v3<', page)
    assert f'href="/w/me/tracks/{v3.id}"' in page and f'href="/w/me/tracks/{single.id}"' in page


def test_the_workspace_page_loads_only_latest_versions_from_the_database(app, client, alex):
    v1, v2, v3 = song(alex, 3)
    single = make_track(alex, title="Solo")
    loaded = []
    record = lambda target, context: loaded.append(target.id)  # noqa: E731
    event.listen(Track, "load", record)
    try:
        db.session.expire_all()
        assert client.get("/w/me").status_code == 200
    finally:
        event.remove(Track, "load", record)
    assert v3.id in loaded and single.id in loaded
    assert v1.id not in loaded and v2.id not in loaded, "older versions are filtered in SQL, not in the template"


def test_latest_tracks_sorts_songs_by_their_latest_version(app, alex):
    big_v1 = make_track(alex, title="Big first take", size=9000)
    small_v2 = make_version(big_v1, size=100)
    middle = make_track(alex, title="Middle", size=5000)
    workspace = Workspace(alex)
    assert versions.latest_tracks(workspace, "largest") == [middle, small_v2]
    assert versions.latest_tracks(workspace, "title") == [small_v2, middle]
    assert versions.latest_tracks(workspace, "nonsense") == versions.latest_tracks(workspace, "newest")


def test_largest_view_says_older_versions_still_use_storage(app, client, alex):
    v1, v2, v3 = song(alex, 3)
    make_track(alex, title="Solo")
    largest = client.get("/w/me?sort=largest", headers=HX).get_data(as_text=True)
    assert largest.count('class="track-row"') == 2
    assert "2 older versions also use storage" in largest
    assert "older version" not in client.get("/w/me?sort=newest", headers=HX).get_data(as_text=True)


def test_playlists_play_the_latest_version(app, client, alex):
    v1, v2, v3 = song(alex, 3, durations=[60, 61, 125])
    other = make_track(alex, title="Other", duration=30)
    playlist = make_playlist(alex, [v1, other])
    page = client.get(f"/w/me/playlists/{playlist.id}").get_data(as_text=True)
    assert re.findall(r'data-src="([^"]+)"', page) == [f"/w/me/tracks/{v3.id}/stream",
                                                       f"/w/me/tracks/{other.id}/stream"]
    assert f'data-track-id="{v1.id}"' in page, "the item keeps its own id for reordering and removal"
    assert "2 tracks · 2:35" in page
    assert "2 tracks · 2:35" in client.get("/w/me/playlists", headers=HX).get_data(as_text=True)
    search = client.get(f"/w/me/playlists/{playlist.id}/candidates?q=Night", headers=HX).get_data(as_text=True)
    assert "Night Drive" not in search, "a song already in the playlist is not offered again"


def test_adding_any_version_adds_the_song_once(app, client, alex):
    v1, v2 = song(alex, 2)
    playlist = make_playlist(alex)
    token = csrf(client, "/w/me")
    for version in (v1, v2):
        response = client.post(f"/w/me/playlists/{playlist.id}/tracks", data={"track_id": str(version.id)},
                               headers={"X-CSRFToken": token, **HX})
        assert response.status_code == 200
    assert db.session.scalars(select(PlaylistTrack.track_id)).all() == [v1.id]
    page = client.get(f"/w/me/playlists/{playlist.id}").get_data(as_text=True)
    assert f"/w/me/tracks/{v2.id}/stream" in page


def test_sms_recipients_hear_the_latest_version_only(app, alex):
    store = store_from_config(app.config)
    v1, v2 = song(alex, 2, store=store)
    share = make_share(alex, playlist=make_playlist(alex, [v1]))
    add_grant(share, "+14155550100", keys_from_config(app.config), code="A7K9M2")
    phone = app.test_client()
    entered = phone.post(f"/listen/{share.share_token}", data={"code": "A7K9M2", "csrf_token": csrf(phone, "/login")})
    assert entered.status_code == 303
    player = phone.get(f"/listen/{share.share_token}/play").get_data(as_text=True)
    assert f"/tracks/{v2.id}/stream" in player and f"/tracks/{v1.id}/stream" not in player
    assert phone.get(f"/listen/{share.share_token}/tracks/{v2.id}/stream").status_code == 200
    assert phone.get(f"/listen/{share.share_token}/tracks/{v1.id}/stream").status_code == 404


def test_pages_run_the_same_queries_however_many_songs_and_versions(app, client, alex):
    def songs(count):
        firsts = [make_track(alex, title=f"Song {n}") for n in range(count)]
        for first in firsts:
            make_version(first)
        return firsts

    small, large = (make_playlist(alex, songs(n)) for n in (5, 40))
    client.get(f"/w/me/playlists/{small.id}")
    assert count_queries(client, f"/w/me/playlists/{small.id}") == count_queries(client, f"/w/me/playlists/{large.id}")
    few = count_queries(client, "/w/me")
    songs(30)
    assert count_queries(client, "/w/me") == few
    two, ten = songs(1)[0], song(alex, 10)[0]
    assert count_queries(client, f"/w/me/tracks/{two.id}") == count_queries(client, f"/w/me/tracks/{ten.id}")


def test_concurrent_version_uploads_get_distinct_numbers(pg_app, race_app):
    store = store_from_config(pg_app.config)
    owner = make_profile(tier="band")
    first_id = store_upload(store, io.BytesIO(wav_bytes()), "song.wav", owner, max_bytes=10**7).id
    owner_id, threads_count = owner.id, 8
    barrier, outcomes = threading.Barrier(threads_count, timeout=60), []

    def add_version():
        with race_app.app_context():
            race_store = store_from_config(race_app.config)
            uploader, first = db.session.get(Profile, owner_id), db.session.get(Track, first_id)
            body = io.BytesIO(wav_bytes())
            barrier.wait()
            try:
                outcomes.append(store_upload(race_store, body, "v.wav", uploader, max_bytes=10**7,
                                             version_of=first, notes="take").version_number)
            except Exception as exc:  # shown by the assertion below rather than lost in the thread
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=add_version) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes, key=str) == list(range(2, threads_count + 2))
    chain = rows(first_id)
    assert [t.version_number for t in chain] == list(range(1, threads_count + 2))
    used = db.session.get(Profile, owner_id).storage_used
    assert used == sum(t.file_size for t in chain)


def test_deleting_versions_hands_the_song_on(app, client, alex):
    store = store_from_config(app.config)
    chain = song(alex, 4, store=store)
    playlist, newest = make_playlist(alex, [chain[0]]), make_playlist(alex, [chain[3]])
    v1, v2, v3, v4 = (t.id for t in chain)
    playlist_id, newest_id, alex_id = playlist.id, newest.id, alex.id
    token = csrf(client, "/w/me")

    def delete(track_id, where=""):
        return client.delete(f"/w/me/tracks/{track_id}{where}", headers={"X-CSRFToken": token, **HX})

    # The latest, from the track list: the row is replaced by the song's new latest.
    response = delete(v4)
    assert response.status_code == 200 and f'id="track-{v3}"' in response.get_data(as_text=True)
    assert db.session.scalars(select(PlaylistTrack.track_id).where(PlaylistTrack.playlist_id == newest_id)).all() \
        == [v3], "the playlist that held v4 keeps the song"

    # A middle one, from the track page: the browser stays on the page it was on (v1's here),
    # or goes to the latest remaining version when the page's own version went.
    assert delete(v2, f"?from=page&stay={v1}").headers["HX-Redirect"] == f"/w/me/tracks/{v1}"
    page = client.get(f"/w/me/tracks/{v1}").get_data(as_text=True)
    assert re.search(rf'hx-delete="/w/me/tracks/{v3}\?[^"]*stay={v1}', page)

    # The first one: the others stay, and so does the song in the playlist that held v1.
    assert delete(v1).status_code == 200
    assert [(t.id, t.version_number) for t in rows(v1)] == [(v3, 3)]
    assert f"/w/me/tracks/{v3}/stream" in client.get(f"/w/me/playlists/{playlist_id}").get_data(as_text=True)
    assert client.get(f"/w/me/tracks/{v3}").status_code == 200

    # The last one: the song is gone, and with it its playlist places.
    assert delete(v3, f"?from=page&stay={v3}").headers["HX-Redirect"] == "/w/me"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PlaylistTrack)) == 0
    assert db.session.get(Profile, alex_id).storage_used == db.session.scalar(
        select(func.coalesce(func.sum(Track.file_size), 0)).where(Track.created_by == alex_id)) == 0
    assert store.keys() == set()


def test_storage_used_is_the_sum_of_all_versions(app, client, alex):
    band = make_band(alex)
    upload(client, ws=str(band.id))
    v1 = db.session.scalar(select(Track))
    for notes in ("a", "b"):
        assert post_version(client, v1, ws=str(band.id), notes=notes).status_code == 204
    chain = rows(v1.id)
    token = csrf(client, "/w/me")
    client.delete(f"/w/{band.id}/tracks/{chain[1].id}", headers={"X-CSRFToken": token, **HX})
    db.session.expire_all()
    remaining = db.session.scalars(select(Track.file_size).where(Track.band_id == band.id)).all()
    assert len(remaining) == 2 and db.session.get(Band, band.id).storage_used == sum(remaining)
    assert store_from_config(app.config).keys() == {t.storage_key for t in rows(v1.id)}


def test_renaming_a_song_renames_every_version(app, client, alex):
    v1, v2 = song(alex, 2)
    token = csrf(client, "/w/me")
    response = client.post(f"/w/me/tracks/{v2.id}/title", data={"title": "Final Name"},
                           headers={"X-CSRFToken": token, **HX})
    assert response.status_code == 200
    assert {t.title for t in rows(v1.id)} == {"Final Name"}


def test_a_song_with_several_versions_is_not_moved_piecemeal(app, client, alex):
    band = make_band(alex)
    v1, v2 = song(alex, 2)
    token = csrf(client, "/w/me")
    response = client.post(f"/w/me/tracks/{v2.id}/move", data={"target": str(band.id)},
                           headers={"X-CSRFToken": token, **HX})
    assert response.status_code == 403 and "several versions" in response.get_data(as_text=True)
    assert all(t.band_id is None for t in rows(v1.id))


def test_versions_of_another_users_personal_song_stay_out_of_mine(app, client, alex):
    """A lineage never reaches across workspaces, even if its rows ended up in two of them."""
    other = make_profile()
    theirs = make_track(other, title="Theirs")
    mine = make_track(alex, title="Mine")
    mine.lineage_id, mine.version_number = theirs.lineage_id, 2  # forged: same lineage, newer number
    db.session.commit()
    playlist = make_playlist(other, [theirs])
    assert [t.id for _, t in playlist_tracks(playlist)] == [theirs.id]
    assert client.get(f"/w/me/tracks/{theirs.id}").status_code == 404
    page = client.get(f"/w/me/tracks/{mine.id}").get_data(as_text=True)
    assert "Theirs" not in page and f"/tracks/{theirs.id}/stream" not in page


# --- A/B compare ------------------------------------------------------------------------------------------------


def compare_url(track, a=None, b=None, ws="me"):
    query = "&".join(f"{name}={value.id if hasattr(value, 'id') else value}"
                     for name, value in (("a", a), ("b", b)) if value is not None)
    return f"/w/{ws}/tracks/{track.id}/compare" + (f"?{query}" if query else "")


def test_band_tier_compares_two_versions_with_loudness_matched(app, client, alex):
    v1, v2 = song(alex, 2)
    v1.loudness_lufs, v2.loudness_lufs = -14.0, -10.8
    db.session.commit()
    response = client.get(compare_url(v2, v1, v2))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "data-compare" in page
    assert f'src="/w/me/tracks/{v1.id}/stream"' in page and f'src="/w/me/tracks/{v2.id}/stream"' in page
    assert "B is 3.2 LU louder; matched" in page
    gain_b = float(re.search(r'data-gain-b="([0-9.]+)"', page).group(1))
    assert abs(gain_b - 10 ** (-3.2 / 20)) < 1e-3 and 'data-gain-a="1.0"' in page
    assert "js/compare.js" in page
    default = client.get(compare_url(v2)).get_data(as_text=True)
    assert default.index(f"/tracks/{v1.id}/stream") < default.index(f"/tracks/{v2.id}/stream"), "A is the one before"


def test_a_member_on_free_tier_compares_in_a_band_on_the_band_plan(app, client, alex):
    sam = make_profile(email="sam@example.com", tier="free")
    band = make_band(alex, members=[sam])
    v1, v2 = song(alex, 2, band=band)
    sam_client = app.test_client()
    sign_in(sam_client, "sam@example.com")
    assert sam_client.get(compare_url(v1, v1, v2, ws=str(band.id))).status_code == 200


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_free_tier_gets_the_upgrade_modal_and_never_the_page(app, client, htmx):
    make_profile(email="frank@example.com", tier="free")
    sign_in(client, "frank@example.com")
    frank = db.session.scalar(select(Profile).where(Profile.email == "frank@example.com"))
    v1, v2 = song(frank, 2)
    response = client.get(compare_url(v2, v1, v2), headers=HX if htmx else {})
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert 'id="upgrade-modal"' in body and "A/B compare of versions is not part of the Free plan" in body
    assert "data-compare" not in body and "/stream" not in body
    track_page = client.get(f"/w/me/tracks/{v2.id}").get_data(as_text=True)
    assert f'hx-get="/w/me/tracks/{v2.id}/compare" hx-target="#modal"' in track_page


def test_a_read_only_band_refuses_compare(app, client, alex):
    band = make_band(alex, read_only=True)
    v1, v2 = song(alex, 2, band=band)
    assert client.get(compare_url(v1, v1, v2, ws=str(band.id))).status_code == 403


def test_compare_takes_only_versions_of_the_same_song(app, client, alex):
    v1, v2 = song(alex, 2)
    stranger_song = make_track(alex, title="Different song")
    for bad in (compare_url(v1, stranger_song, v2), compare_url(v1, v1, stranger_song),
                compare_url(v1, "not-a-uuid", v2), compare_url(v1, v1, "00000000-0000-0000-0000-000000000000")):
        assert client.get(bad).status_code == 404, bad


def test_compare_with_another_bands_version_ids_is_404(app, client, alex):
    """The query-string ids go through the same isolation as the path (the route walk covers the path)."""
    bob = make_profile()
    theirs = song(bob, 2, band=make_band(bob))
    mine = song(alex, 2, band=make_band(alex))
    ws = str(mine[0].band_id)
    for url in (compare_url(mine[0], theirs[0], mine[1], ws=ws), compare_url(mine[0], mine[0], theirs[1], ws=ws),
                compare_url(theirs[0], theirs[0], theirs[1], ws=ws),
                compare_url(theirs[0], theirs[0], theirs[1], ws=str(theirs[0].band_id))):
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=HX).status_code == 404, url


def test_compare_of_a_song_with_one_version_says_so(app, client, alex):
    only = make_track(alex)
    page = client.get(compare_url(only)).get_data(as_text=True)
    assert "one version so far" in page and "data-compare" not in page


def test_loudness_matching_turns_the_louder_one_down_and_never_boosts():
    match = versions.loudness_match(-14.0, -10.8)
    assert (match.gain_a, round(match.gain_b, 4)) == (1.0, round(10 ** (-3.2 / 20), 4))
    assert match.text == "B is 3.2 LU louder; matched"
    louder_a = versions.loudness_match(-9.0, -15.5)
    assert louder_a.gain_b == 1.0 and louder_a.gain_a < 1.0 and louder_a.text == "A is 6.5 LU louder; matched"
    assert math.isclose(20 * math.log10(louder_a.gain_a), -6.5, abs_tol=0.01)
    assert versions.loudness_match(-12.0, -12.0).text == "A and B are equally loud."
    unknown = versions.loudness_match(None, -12.0)
    assert (unknown.gain_a, unknown.gain_b) == (1.0, 1.0) and "not known" in unknown.text


def test_chain_and_pair_stay_in_the_workspace(app, alex):
    v1, v2, v3 = song(alex, 3)
    workspace = Workspace(alex)
    assert [v.track.id for v in versions.chain(workspace, v2)] == [v1.id, v2.id, v3.id]
    assert versions.pair(workspace, v1, None, None) == (v1, v3)
    assert versions.pair(workspace, v3, None, None) == (v2, v3)
    assert versions.pair(workspace, v1, str(v3.id), None) == (v3, v2)
