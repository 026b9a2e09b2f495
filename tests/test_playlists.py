"""Playlists (SPEC §4): one workspace's tracks in the user's order, a player, and no leaks."""
import re
import uuid

import pytest
from sqlalchemy import event, select

from coretet.extensions import db
from coretet.models import Playlist, PlaylistTrack, Track
from coretet.services import playlists
from coretet.services.workspaces import Workspace
from tests.auth_helpers import csrf_from, sign_in, without_csrf
from tests.factories import make_band, make_playlist, make_profile, make_track

HX = {"HX-Request": "true"}


@pytest.fixture
def alex(client):
    profile = make_profile(email="alex@example.com", name="Alex", tier="band")
    sign_in(client, profile.email)
    return profile


def token(client, ws="me"):
    return csrf_from(client.get(f"/w/{ws}/playlists").get_data(as_text=True))


def send(client, method, url, data=None):
    """An htmx request carrying the CSRF header, as app.js sends it."""
    return client.open(url, method=method, data=data or {}, headers={"X-CSRFToken": token(client), **HX})


def page_url(playlist, ws="me"):
    return f"/w/{ws}/playlists/{playlist.id}"


def order_of(playlist):
    """The playlist's track ids in order, checking the positions run 0..n-1 without gaps."""
    db.session.expire_all()
    rows = db.session.execute(select(PlaylistTrack.track_id, PlaylistTrack.position)
                              .where(PlaylistTrack.playlist_id == playlist.id).order_by(PlaylistTrack.position)).all()
    assert [position for _, position in rows] == list(range(len(rows)))
    return [track_id for track_id, _ in rows]


def many_tracks(owner, count):
    rows = [Track(title=f"Song {n:03d}", storage_key=f"test/{uuid.uuid4().hex}", file_size=10, duration_seconds=61,
                  content_type="audio/wav", created_by=owner.id) for n in range(count)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def count_queries(client, url, **kwargs):
    """How many SQL statements answering one GET takes."""
    statements = []

    def record(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url, **kwargs).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_summaries_read_as_count_and_minutes():
    assert playlists.summary_label(0, 0) == "0 tracks · 0:00"
    assert playlists.summary_label(1, 61) == "1 track · 1:01"
    assert playlists.summary_label(5, 754.4) == "5 tracks · 12:34"
    assert playlists.summary_label(30, 3725) == "30 tracks · 1:02:05"


def test_create_opens_the_new_playlist(client, alex):
    data = {"title": "  Summer   EP ", "description": "Rough mixes", "csrf_token": token(client)}
    response = client.post("/w/me/playlists", data=data)
    playlist = db.session.scalar(select(Playlist))
    assert response.status_code == 302 and response.location.endswith(page_url(playlist))
    assert (playlist.title, playlist.description, playlist.band_id) == ("Summer EP", "Rough mixes", None)
    modal = client.get("/w/me/playlists/new", headers=HX).get_data(as_text=True)
    assert 'id="new-playlist"' in modal and "<html" not in modal
    response = client.post("/w/me/playlists", data={"title": "Demos", "csrf_token": csrf_from(modal)}, headers=HX)
    newest = db.session.scalar(select(Playlist).where(Playlist.title == "Demos"))
    assert response.status_code == 204 and response.headers["HX-Redirect"] == page_url(newest)


@pytest.mark.parametrize("data, message", [
    ({"title": "   "}, "Give the playlist a title."),
    ({"title": "x" * 201}, "Titles can be up to 200 characters."),
    ({"title": "Fine", "description": "x" * 2001}, "Descriptions can be up to 2000 characters."),
])
def test_create_refuses_bad_titles_and_descriptions(client, alex, data, message):
    response = client.post("/w/me/playlists", data={**data, "csrf_token": token(client)}, headers=HX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(Playlist)) is None


def test_rename_and_describe_inline(client, alex):
    playlist = make_playlist(alex, title="Old")
    form = client.get(f"{page_url(playlist)}/edit", headers=HX).get_data(as_text=True)
    assert f'hx-patch="{page_url(playlist)}"' in form and 'value="Old"' in form and "<html" not in form
    assert "<audio" not in client.get(page_url(playlist), headers=HX).get_data(as_text=True), "Cancel: details only"
    response = send(client, "PATCH", page_url(playlist), {"title": "New name", "description": "For the EP"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="playlist-details"' in body and "New name" in body
    blank = send(client, "PATCH", page_url(playlist), {"title": " ", "description": ""})
    assert blank.status_code == 422 and "Give the playlist a title." in blank.get_data(as_text=True)
    db.session.expire_all()
    assert (playlist.title, playlist.description) == ("New name", "For the EP")


def test_delete_removes_the_playlist_but_not_its_tracks(client, alex):
    track = make_track(alex)
    playlist = make_playlist(alex, [track])
    response = send(client, "DELETE", page_url(playlist))
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/w/me"
    assert db.session.scalar(select(Playlist)) is None and db.session.scalar(select(PlaylistTrack)) is None
    assert db.session.get(Track, track.id) is not None


def test_add_appends_in_order_and_ignores_duplicates(client, alex):
    first, second, third = make_track(alex), make_track(alex), make_track(alex)
    playlist = make_playlist(alex, [first])
    url = f"{page_url(playlist)}/tracks"
    response = send(client, "POST", url, {"track_id": [str(third.id), str(first.id), str(second.id), str(third.id)]})
    assert response.status_code == 200 and 'id="playlist-tracks"' in response.get_data(as_text=True)
    assert response.headers["HX-Trigger"] == '{"playlist-changed": true}'
    assert order_of(playlist) == [first.id, third.id, second.id]


def test_add_refuses_tracks_from_any_other_workspace_like_unknown_ids(client, alex):
    own = make_track(alex)
    stranger = make_profile()
    alex_band = make_band(make_profile(tier="band"), members=[alex])
    other_band = make_band(stranger)
    playlist = make_playlist(alex)
    url = f"{page_url(playlist)}/tracks"
    foreign = [make_track(alex, band=alex_band), make_track(stranger), make_track(stranger, band=other_band)]
    # The page's CSRF token carries a timestamp; everything else must be identical.
    body = lambda response: without_csrf(response.get_data(as_text=True))  # noqa: E731
    unknown = send(client, "POST", url, {"track_id": str(uuid.uuid4())})
    assert unknown.status_code == 404
    for track in foreign:
        response = send(client, "POST", url, {"track_id": [str(own.id), str(track.id)]})
        assert response.status_code == 404 and body(response) == body(unknown)
    assert send(client, "POST", url, {"track_id": "not-an-id"}).status_code == 404
    assert order_of(playlist) == []


def test_band_members_make_band_playlists_of_band_tracks_only(client, alex):
    band = make_band(make_profile(tier="band"), members=[alex])
    client.post(f"/w/{band.id}/playlists", data={"title": "Setlist", "csrf_token": token(client, band.id)})
    playlist = db.session.scalar(select(Playlist).where(Playlist.band_id == band.id))
    url = f"/w/{band.id}/playlists/{playlist.id}/tracks"
    assert send(client, "POST", url, {"track_id": str(make_track(alex).id)}).status_code == 404
    band_track = make_track(alex, band=band)
    assert send(client, "POST", url, {"track_id": str(band_track.id)}).status_code == 200
    assert order_of(playlist) == [band_track.id]


def test_remove_takes_the_row_out_and_closes_the_gap(client, alex):
    tracks = [make_track(alex) for _ in range(3)]
    playlist = make_playlist(alex, tracks)
    response = send(client, "DELETE", f"{page_url(playlist)}/tracks/{tracks[1].id}")
    assert response.status_code == 200 and str(tracks[1].id) not in response.get_data(as_text=True)
    assert order_of(playlist) == [tracks[0].id, tracks[2].id]
    assert send(client, "DELETE", f"{page_url(playlist)}/tracks/{tracks[1].id}").status_code == 404


def test_reorder_saves_exactly_the_current_tracks_in_a_new_order(client, alex):
    a, b, c = (make_track(alex) for _ in range(3))
    outside, stranger_track = make_track(alex), make_track(make_profile())
    playlist = make_playlist(alex, [a, b, c])
    url = f"{page_url(playlist)}/order"
    for ids in ([b, a], [c, b, a, outside], [c, b, b], [c, b, a, a]):
        response = send(client, "POST", url, {"track_id": [str(t.id) for t in ids]})
        assert response.status_code == 409 and "changed since the page was loaded" in response.get_data(as_text=True)
        assert order_of(playlist) == [a.id, b.id, c.id]
    assert send(client, "POST", url, {"track_id": [str(c.id), str(b.id), str(stranger_track.id)]}).status_code == 404
    assert order_of(playlist) == [a.id, b.id, c.id]
    response = send(client, "POST", url, {"track_id": [str(c.id), str(a.id), str(b.id)]})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.index(str(c.id)) < body.index(str(a.id)) < body.index(str(b.id))
    assert order_of(playlist) == [c.id, a.id, b.id]


def test_read_only_band_refuses_new_playlists_but_shows_existing_ones(client, alex):
    band = make_band(alex, read_only=True)
    existing = make_playlist(alex, [make_track(alex, band=band)], band=band, title="Old setlist")
    listing = client.get(f"/w/{band.id}/playlists").get_data(as_text=True)
    assert "Old setlist" in listing and "New playlist" not in listing
    assert client.get(page_url(existing, band.id)).status_code == 200
    plain = client.post(f"/w/{band.id}/playlists", data={"title": "New", "csrf_token": token(client, band.id)})
    response = send(client, "POST", f"/w/{band.id}/playlists", {"title": "New"})
    assert plain.status_code == response.status_code == 403 and response.headers["HX-Retarget"] == "#notices"
    assert "read-only" in plain.get_data(as_text=True) and "read-only" in response.get_data(as_text=True)
    assert client.get(f"/w/{band.id}/playlists/new", headers=HX).status_code == 403
    assert db.session.scalars(select(Playlist.title)).all() == ["Old setlist"]


def test_page_shows_track_count_total_duration_and_lengths(client, alex):
    tracks = [make_track(alex, duration=60), make_track(alex, duration=125.4), make_track(alex, duration=400)]
    playlist = make_playlist(alex, tracks, title="EP")
    body = client.get(page_url(playlist)).get_data(as_text=True)
    assert "3 tracks · 9:45" in body and "2:05" in body and "6:40" in body


def test_list_fragment_shows_each_playlist_with_count_and_length(client, alex):
    make_playlist(alex, [make_track(alex, duration=45), make_track(alex, duration=45)], title="Two")
    make_playlist(alex, title="Empty")
    make_playlist(make_profile(), [make_track(alex)], title="Someone else's")
    body = client.get("/w/me/playlists", headers=HX).get_data(as_text=True)
    assert "<html" not in body and 'id="playlists"' in body
    assert "Two" in body and "2 tracks · 1:30" in body and "0 tracks · 0:00" in body
    assert "Someone else" not in body


def test_search_finds_workspace_tracks_not_yet_in_the_playlist(client, alex):
    moon, sky = make_track(alex, title="Blue Moon"), make_track(alex, title="Blue Sky")
    make_track(alex, title="Red 100%")
    make_track(make_profile(), title="Blue Stranger")
    playlist = make_playlist(alex, [sky])
    url = f"{page_url(playlist)}/candidates"
    search = lambda q: client.get(url, query_string={"q": q}, headers=HX).get_data(as_text=True)  # noqa: E731
    body = search("blue")
    assert 'id="candidates"' in body and "<html" not in body and "Blue Moon" in body and str(moon.id) in body
    assert "Blue Sky" not in body and "Red" not in body and "Stranger" not in body
    assert "Red 100%" in search("%") and "Blue Moon" not in search("%"), "wildcards are searched literally"
    assert "No track titles match" in search("zzz")


def test_search_lists_at_most_twenty(app, alex):
    tracks = many_tracks(alex, 25)
    playlist = make_playlist(alex, tracks[:2])
    found = playlists.candidates(Workspace(alex), playlist, "song")
    assert len(found) == 20 and not {t.id for t in found} & {tracks[0].id, tracks[1].id}


def test_strangers_get_404_on_every_playlist_route_of_a_band(app, client):
    owner = make_profile(tier="band")
    band = make_band(owner)
    track = make_track(owner, band=band)
    playlist = make_playlist(owner, [track], band=band)
    make_profile(email="stranger@example.com")
    sign_in(client, "stranger@example.com")
    real = {"ws": str(band.id), "playlist_id": str(playlist.id), "track_id": str(track.id)}
    made_up = {key: str(uuid.uuid4()) for key in real}
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("playlists.")]
    assert len(rules) >= 10
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for ids in (real, made_up):
                url = rule.build({key: value for key, value in ids.items() if key in rule.arguments})[1]
                response = send(client, method, url, {"track_id": real["track_id"], "title": "x"})
                assert response.status_code == 404, (method, url)
    personal = make_playlist(owner)
    assert client.get(page_url(personal)).status_code == send(client, "DELETE", page_url(personal)).status_code == 404
    assert order_of(playlist) == [track.id]
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Playlist.id)).all()) == sorted([playlist.id, personal.id])


def test_every_change_needs_the_csrf_token(client, alex):
    track = make_track(alex)
    playlist = make_playlist(alex, [track], title="Same")
    assert client.post("/w/me/playlists", data={"title": "No token"}).status_code == 400
    assert client.patch(page_url(playlist), data={"title": "Changed"}, headers=HX).status_code == 400
    assert client.delete(page_url(playlist), headers=HX).status_code == 400
    assert client.post(f"{page_url(playlist)}/tracks", data={"track_id": str(make_track(alex).id)}).status_code == 400
    assert client.delete(f"{page_url(playlist)}/tracks/{track.id}", headers=HX).status_code == 400
    assert client.post(f"{page_url(playlist)}/order", data={"track_id": str(track.id)}).status_code == 400
    db.session.expire_all()
    assert db.session.scalars(select(Playlist.title)).all() == ["Same"] and order_of(playlist) == [track.id]


def test_page_has_a_player_with_the_stream_urls_in_order(client, alex):
    a, b, c = (make_track(alex) for _ in range(3))
    playlist = make_playlist(alex, [b, c, a])
    body = client.get(page_url(playlist)).get_data(as_text=True)
    assert re.search(r"<audio\b", body) and "js/player.js" in body and "js/reorder.js" in body
    assert re.findall(r'data-src="([^"]+)"', body) == [f"/w/me/tracks/{t.id}/stream" for t in (b, c, a)]


def test_playlist_page_runs_the_same_queries_for_10_and_200_tracks(client, alex):
    small, large = (page_url(make_playlist(alex, many_tracks(alex, n))) for n in (10, 200))
    client.get(small)
    assert count_queries(client, small) == count_queries(client, large)


def test_list_fragment_runs_the_same_queries_for_few_and_many_playlists(client, alex):
    make_playlist(alex, many_tracks(alex, 3))
    few = count_queries(client, "/w/me/playlists", headers=HX)
    for _ in range(12):
        make_playlist(alex, many_tracks(alex, 20))
    assert count_queries(client, "/w/me/playlists", headers=HX) == few
