"""Tracks through the browser's requests: upload, stream with Range, rename, move, delete."""
import io
from urllib.parse import quote

import pytest
from sqlalchemy import select

from coretet.extensions import db
from coretet.models import Band, Profile, Track
from coretet.services.filestore import store_from_config
from tests.auth_helpers import csrf, sign_in
from tests.factories import make_band, make_playlist, make_profile
from tests.test_audio import wav_bytes

WAV = wav_bytes(rate=8000, seconds=0.5)


@pytest.fixture
def alex(app, client):
    profile = make_profile(email="alex@example.com", tier="band")
    sign_in(client, "alex@example.com")
    return profile


def upload(client, ws="me", body=WAV, name="Demo take 1.wav", **headers):
    token = csrf(client, f"/w/{ws}")
    return client.post(f"/w/{ws}/tracks", data=body, headers={
        "X-CSRFToken": token, "X-File-Name": quote(name), "Content-Type": "audio/wav",
        "X-Requested-With": "XMLHttpRequest", **headers})


def tracks():
    db.session.expire_all()
    return db.session.scalars(select(Track)).all()


def test_an_uploaded_file_becomes_a_track_row_with_title_size_and_duration(app, client, alex):
    response = upload(client)
    assert response.status_code == 200
    assert "Demo take 1" in response.get_data(as_text=True)
    assert "storageChanged" in response.headers["HX-Trigger"]
    [track] = tracks()
    assert track.file_size == len(WAV) and abs(track.duration_seconds - 0.5) < 0.01
    assert db.session.get(Profile, alex.id).storage_used == len(WAV)


def test_a_plain_form_upload_works_without_javascript(app, client, alex):
    token = csrf(client, "/w/me")
    response = client.post("/w/me/tracks", data={"csrf_token": token, "file": (io.BytesIO(WAV), "form.wav")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and [t.title for t in tracks()] == ["form"]


def test_a_band_upload_is_charged_to_the_band(app, client, alex):
    band = make_band(alex)
    assert upload(client, ws=str(band.id)).status_code == 200
    db.session.expire_all()
    assert db.session.get(Band, band.id).storage_used == len(WAV)
    assert db.session.get(Profile, alex.id).storage_used == 0


def test_over_the_size_cap_is_413_with_a_readable_message(app, client, alex):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = upload(client)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert tracks() == []


def test_a_text_file_renamed_mp3_is_refused(app, client, alex):
    response = upload(client, body=b"just some notes about the song\n" * 40, name="song.mp3")
    assert response.status_code == 422 and "isn't audio" in response.get_data(as_text=True)
    assert tracks() == [] and store_from_config(app.config).keys() == set()


def test_dot_dot_in_a_file_name_is_harmless(app, client, alex):
    assert upload(client, name="../../etc/x.mp3").status_code == 200
    [track] = tracks()
    assert track.title == "x" and ".." not in track.storage_key
    assert store_from_config(app.config).keys() == {track.storage_key}


@pytest.mark.parametrize("server_terminates_input", [False, True], ids=["werkzeug", "gunicorn-style"])
def test_a_client_that_disconnects_mid_upload_leaves_nothing(app, client, alex, server_terminates_input):
    token = csrf(client, "/w/me")
    # The body stops after 1000 of the announced bytes, as when the browser goes away.
    environ = {"CONTENT_LENGTH": str(len(WAV))}
    if server_terminates_input:
        environ["wsgi.input_terminated"] = True
    response = client.post("/w/me/tracks", input_stream=io.BytesIO(WAV[:1000]), environ_overrides=environ,
                           headers={"X-CSRFToken": token, "X-File-Name": "cut.wav"})
    assert response.status_code in (400, 422)
    assert tracks() == [] and store_from_config(app.config).keys() == set()
    assert db.session.get(Profile, alex.id).storage_used == 0


def test_an_upload_that_does_not_fit_says_what_is_used_and_what_to_do(app, client, alex):
    alex.storage_limit = len(WAV) - 1
    db.session.commit()
    response = upload(client)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Delete tracks" in text and "left" in text
    assert response.headers["X-Upload-Refused"] == "quota", "upload.js offers an upgrade on this mark only"


def test_other_refusals_are_not_marked_as_quota(app, client, alex):
    response = upload(client, body=b"just some notes about the song\n" * 40, name="song.mp3")
    assert response.status_code == 422 and "X-Upload-Refused" not in response.headers


UPGRADE_URL = 'data-upgrade-url="/billing/upgrade/storage"'


def test_the_upload_form_carries_the_upgrade_url_only_in_a_free_personal_space(app, client):
    sam = make_profile(email="sam@example.com", tier="free")
    sign_in(client, sam.email)
    band = make_band(make_profile(tier="band"), members=[sam])
    assert UPGRADE_URL in client.get("/w/me").get_data(as_text=True)
    assert 'id="upload"' in client.get(f"/w/{band.id}").get_data(as_text=True)
    assert UPGRADE_URL not in client.get(f"/w/{band.id}").get_data(as_text=True)


def test_a_paid_personal_space_gets_no_upgrade_url(app, client, alex):
    page = client.get("/w/me").get_data(as_text=True)
    assert 'id="upload"' in page and "data-upgrade-url" not in page


@pytest.fixture
def track(app, client, alex):
    upload(client)
    return tracks()[0]


def stream(client, track, ws="me", **headers):
    return client.get(f"/w/{ws}/tracks/{track.id}/stream", headers=headers)


def test_the_first_two_bytes_as_ios_asks(client, track):
    response = stream(client, track, Range="bytes=0-1")
    assert response.status_code == 206 and response.data == WAV[:2]
    assert response.headers["Content-Range"] == f"bytes 0-1/{len(WAV)}"
    assert "private" in response.headers["Cache-Control"]


def test_open_ended_and_suffix_ranges(client, track):
    assert stream(client, track, Range="bytes=100-").data == WAV[100:]
    suffix = stream(client, track, Range="bytes=-10")
    assert suffix.status_code == 206 and suffix.data == WAV[-10:]


def test_a_range_past_the_end_is_416(client, track):
    response = stream(client, track, Range=f"bytes={len(WAV) + 10}-")
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(WAV)}"


def test_multiple_ranges_get_the_whole_file(client, track):
    response = stream(client, track, Range="bytes=0-1,10-20")
    assert response.status_code == 200 and response.data == WAV


def test_if_range_with_a_stale_validator_gets_the_whole_file(client, track):
    current = stream(client, track)
    assert current.status_code == 200
    fresh = stream(client, track, Range="bytes=0-1", **{"If-Range": current.headers["ETag"]})
    stale = stream(client, track, Range="bytes=0-1", **{"If-Range": '"stale-etag"'})
    assert fresh.status_code == 206 and stale.status_code == 200 and stale.data == WAV


def test_another_bands_track_is_404_even_with_a_range(app, client, alex):
    stranger = make_profile()
    band = make_band(stranger)
    from tests.factories import make_track

    theirs = make_track(stranger, band=band)
    assert client.get(f"/w/{band.id}/tracks/{theirs.id}/stream", headers={"Range": "bytes=0-1"}).status_code == 404
    assert client.get(f"/w/me/tracks/{theirs.id}/stream", headers={"Range": "bytes=0-1"}).status_code == 404


def test_renaming_inline_returns_the_new_title(client, track):
    token = csrf(client, "/w/me")
    response = client.post(f"/w/me/tracks/{track.id}/title", data={"title": "  Final   mix  "},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 200 and ">Final mix<" in response.get_data(as_text=True)


def test_a_blank_title_is_refused_with_a_message(client, track):
    token = csrf(client, "/w/me")
    response = client.post(f"/w/me/tracks/{track.id}/title", data={"title": "   "},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 403 and "Give the track a title" in response.get_data(as_text=True)
    assert tracks()[0].title == "Demo take 1"


def test_deleting_removes_file_row_and_usage(app, client, alex, track):
    token = csrf(client, "/w/me")
    assert client.delete(f"/w/me/tracks/{track.id}", headers={"X-CSRFToken": token}).status_code == 200
    assert tracks() == [] and store_from_config(app.config).keys() == set()
    assert db.session.get(Profile, alex.id).storage_used == 0


def test_moving_to_a_band_moves_the_usage_and_leaves_personal_playlists(app, client, alex, track):
    band = make_band(alex)
    playlist = make_playlist(alex, [track])
    token = csrf(client, "/w/me")
    response = client.post(f"/w/me/tracks/{track.id}/move", data={"target": str(band.id)},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Band, band.id).storage_used == len(WAV)
    assert db.session.get(Profile, alex.id).storage_used == 0
    from coretet.services.workspaces import playlist_tracks
    assert playlist_tracks(playlist) == []


def test_a_move_that_does_not_fit_is_refused_and_nothing_changes(app, client, alex, track):
    band = make_band(alex, storage_limit=10)
    token = csrf(client, "/w/me")
    response = client.post(f"/w/me/tracks/{track.id}/move", data={"target": str(band.id)},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 403 and "Delete tracks" in response.get_data(as_text=True)
    db.session.expire_all()
    assert tracks()[0].band_id is None and db.session.get(Band, band.id).storage_used == 0


def test_moving_to_a_band_you_are_not_in_is_404(app, client, alex, track):
    other = make_band(make_profile())
    token = csrf(client, "/w/me")
    response = client.post(f"/w/me/tracks/{track.id}/move", data={"target": str(other.id)},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 404 and tracks()[0].band_id is None
