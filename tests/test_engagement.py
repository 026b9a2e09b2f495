"""Listened / liked / loved (SPEC §9): real listening only, toggled reactions, members-only figures."""
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from coretet.extensions import db
from coretet.models import BandMember, Profile, Track, TrackEngagement, utcnow
from coretet.services import bands, engagement
from coretet.services.engagement import EngagementError, record_progress, set_reaction
from coretet.services.workspaces import resolve
from tests.auth_helpers import csrf, sign_in
from tests.factories import make_band, make_playlist, make_profile, make_track

HX = {"HX-Request": "true"}


@pytest.fixture
def band_world(app):
    alex = make_profile(email="alex@example.com", name="Alex", tier="band")
    sam = make_profile(email="sam@example.com", name="Sam")
    band = make_band(alex, members=[sam])
    track = make_track(alex, band=band, duration=100.0)
    return {"alex": alex, "sam": sam, "band": band, "track": track}


def listen(profile, track, seconds, start=None, step=10.0):
    """Play `seconds` of the track in real time: one beacon per `step` seconds, spaced by that wall-clock time."""
    now = start or utcnow()
    position = 0.0
    while seconds > 1e-9:
        played = min(step, seconds)
        now += timedelta(seconds=played)
        position += played
        record_progress(profile, track, position, played, now)
        seconds -= played
    return now


def row(profile, track):
    db.session.expire_all()
    return db.session.scalar(select(TrackEngagement).where(
        TrackEngagement.profile_id == profile.id, TrackEngagement.track_id == track.id))


@pytest.mark.parametrize("played,listened", [(49, False), (50, False), (51, True)])
def test_listened_needs_more_than_half_of_the_track(band_world, played, listened):
    sam, track = band_world["sam"], band_world["track"]
    listen(sam, track, played)
    state = row(sam, track)
    assert state.seconds_listened == pytest.approx(played)
    assert (state.listened_at is not None) is listened


def test_seeking_past_the_middle_alone_does_not_count(band_world):
    sam, track = band_world["sam"], band_world["track"]
    now = utcnow()
    record_progress(sam, track, 60, 0, now)  # jumped to 60 %: nothing played
    record_progress(sam, track, 95, 0.4, now + timedelta(seconds=1))
    state = row(sam, track)
    assert state.last_position == 95
    assert state.seconds_listened == pytest.approx(0.4)
    assert state.listened_at is None


def test_beacons_claiming_more_than_the_wall_clock_allows_are_capped(band_world):
    sam, track = band_world["sam"], band_world["track"]
    now = utcnow()
    record_progress(sam, track, 99, 99, now)  # a first beacon is worth one beacon at most
    assert row(sam, track).seconds_listened == engagement.MAX_BEACON_SECONDS
    for second in range(1, 11):  # ten more, one second apart, each claiming 60 s
        record_progress(sam, track, 99, 60, now + timedelta(seconds=second))
    state = row(sam, track)
    assert state.seconds_listened == pytest.approx(15 + 10 * (1 + engagement.SLACK_SECONDS))
    assert state.listened_at is None


def test_a_beacon_never_credits_more_than_the_track_lasts(app):
    owner = make_profile()
    short = make_track(owner, duration=4.0)
    record_progress(owner, short, 4, 12, utcnow())
    assert row(owner, short).seconds_listened == 4.0
    assert row(owner, short).listened_at is not None


@pytest.mark.parametrize("position,played", [("x", 1), (1, "nan"), (1, -2), (None, 1), ("inf", 1)])
def test_bad_beacon_values_are_refused_with_a_message(band_world, position, played):
    with pytest.raises(EngagementError, match="seconds"):
        record_progress(band_world["sam"], band_world["track"], position, played)
    assert row(band_world["sam"], band_world["track"]) is None


def test_reactions_toggle_and_switch(band_world):
    sam, track = band_world["sam"], band_world["track"]
    assert set_reaction(sam, track, "liked") == "liked"
    assert set_reaction(sam, track, "liked") is None
    assert set_reaction(sam, track, "liked") == "liked"
    assert set_reaction(sam, track, "loved") == "loved"
    assert set_reaction(sam, track, None) is None
    with pytest.raises(EngagementError):
        set_reaction(sam, track, "starred")
    assert db.session.scalar(select(func.count()).select_from(TrackEngagement)) == 1


def test_summaries_count_listens_and_reactions_of_members(app):
    owner = make_profile(name="Alex", tier="band")
    others = [make_profile(name=name) for name in ("Bea", "Cy", "Di", "Ed")]
    band = make_band(owner, members=others)
    track, quiet = make_track(owner, band=band, duration=20.0), make_track(owner, band=band, duration=20.0)
    for member in (owner, others[0], others[1]):
        listen(member, track, 11)
    set_reaction(others[0], track, "liked")
    set_reaction(others[1], track, "liked")
    set_reaction(owner, track, "loved")
    workspace = resolve(owner, str(band.id))

    summaries = engagement.workspace_summaries(workspace)

    assert summaries[track.id].label == "3/5 listened · 2 liked · 1 loved"
    assert summaries[track.id].me_listened and summaries[track.id].my_reaction == "loved"
    assert summaries[quiet.id].label == "0/5 listened"


def test_only_current_members_count(app):
    owner, sam, stranger = make_profile(tier="band"), make_profile(), make_profile()
    band = make_band(owner, members=[sam])
    track = make_track(owner, band=band, duration=20.0)
    listen(sam, track, 11)
    set_reaction(sam, track, "loved")
    listen(stranger, track, 11)  # a row from someone outside the band (e.g. by a bug) never counts
    workspace = resolve(owner, str(band.id))
    assert engagement.workspace_summaries(workspace)[track.id].label == "1/2 listened · 1 loved"

    membership = db.session.scalar(select(BandMember).where(BandMember.profile_id == sam.id))
    bands.remove_member(workspace, membership.id)
    assert engagement.workspace_summaries(resolve(owner, str(band.id)))[track.id].label == "0/1 listened"


def test_engagement_belongs_to_the_version_it_was_made_on(band_world):
    alex, sam, band, v1 = (band_world[k] for k in ("alex", "sam", "band", "track"))
    v2 = Track(title=v1.title, storage_key=f"test/{uuid.uuid4().hex}", file_size=10, duration_seconds=100.0,
               content_type="audio/wav", created_by=alex.id, band_id=band.id, lineage_id=v1.lineage_id,
               version_number=2)
    db.session.add(v2)
    db.session.commit()
    listen(sam, v1, 60)
    set_reaction(sam, v1, "liked")
    summaries = engagement.workspace_summaries(resolve(alex, str(band.id)))
    assert summaries[v1.id].label == "1/2 listened · 1 liked"
    assert summaries[v2.id].label == "0/2 listened"


def test_playlists_show_how_many_tracks_you_have_listened_to(app, client):
    me = make_profile(email="me@example.com", tier="band")
    tracks = [make_track(me, duration=10.0) for _ in range(5)]
    playlist = make_playlist(me, tracks, title="Summer EP")
    listen(me, tracks[0], 6)
    listen(me, tracks[3], 6)
    listen(me, tracks[1], 2)  # started, not listened
    sign_in(client, me.email)

    page = client.get(f"/w/me/playlists/{playlist.id}").get_data(as_text=True)
    cards = client.get("/w/me/playlists", headers=HX).get_data(as_text=True)
    home = client.get("/w/me").get_data(as_text=True)

    assert "You&#39;ve listened to 2/5" in page
    assert "You&#39;ve listened to 2/5" in cards
    assert "You&#39;ve listened to 2/5" in home


def test_track_rows_show_the_band_summary_and_the_track_panel_names_each_member(band_world, client):
    alex, sam, band, track = (band_world[k] for k in ("alex", "sam", "band", "track"))
    listen(alex, track, 60)
    set_reaction(alex, track, "loved")
    sign_in(client, alex.email)

    home = client.get(f"/w/{band.id}").get_data(as_text=True)
    panel = client.get(f"/w/{band.id}/tracks/{track.id}/collab", headers=HX).get_data(as_text=True)

    assert "1/2 listened · 1 loved" in home
    assert "1/2 listened · 1 loved" in panel
    names = [chunk.split("<")[0].strip() for chunk in panel.split('class="eng-name">')[1:]]
    states = [chunk.split("<")[0].strip() for chunk in panel.split('class="eng-state">')[1:]]
    assert list(zip(names, states)) == [("Alex", "listened, loved"), ("Sam", "not yet")]


def test_recipients_and_strangers_never_see_engagement(band_world, client):
    stranger = make_profile(email="stranger@example.com")
    sign_in(client, stranger.email)
    url = f"/w/{band_world['band'].id}/tracks/{band_world['track'].id}/engagement"
    assert client.get(url, headers=HX).status_code == 404


def test_beacon_route_takes_json_or_form_and_needs_the_csrf_token(band_world, client):
    sam, band, track = band_world["sam"], band_world["band"], band_world["track"]
    sign_in(client, sam.email)
    token = csrf(client, "/w/me")
    url = f"/w/{band.id}/tracks/{track.id}/beacon"

    assert client.post(url, json={"position": 5, "played": 5}).status_code == 400  # no token
    assert client.post(url, json={"position": 5, "played": 5}, headers={"X-CSRFToken": token}).status_code == 204
    # navigator.sendBeacon sends a form with the token as a field
    assert client.post(url, data={"position": 6, "played": 1, "csrf_token": token}).status_code == 204
    bad = client.post(url, json={"position": "soon", "played": 1}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "number of seconds" in bad.get_json()["error"]
    assert row(sam, track).seconds_listened == pytest.approx(6)


def test_the_beacon_that_crosses_half_says_so_once(app, client):
    me = make_profile(email="me@example.com")
    track = make_track(me, duration=10.0)
    sign_in(client, me.email)
    headers = {"X-CSRFToken": csrf(client, "/w/me")}
    url = f"/w/me/tracks/{track.id}/beacon"
    first = client.post(url, json={"position": 6, "played": 6}, headers=headers)
    assert first.status_code == 200 and first.get_json() == {"listened": True}
    assert client.post(url, json={"position": 7, "played": 1}, headers=headers).status_code == 204


def test_reaction_button_toggles_in_place(band_world, client):
    sam, band, track = band_world["sam"], band_world["band"], band_world["track"]
    sign_in(client, sam.email)
    headers = {"X-CSRFToken": csrf(client, "/w/me"), **HX}
    url = f"/w/{band.id}/tracks/{track.id}/reaction"

    liked = client.post(url, data={"reaction": "liked"}, headers=headers).get_data(as_text=True)
    assert 'value="liked" class="reaction reaction-liked"\n        aria-pressed="true"' in liked
    assert "0/2 listened · 1 liked" in liked
    again = client.post(url, data={"reaction": "liked"}, headers=headers).get_data(as_text=True)
    assert 'aria-pressed="true"' not in again
    assert client.post(url, data={"reaction": "meh"}, headers=headers).status_code == 422
    assert client.post(url, data={"reaction": "liked"}, headers=HX).status_code == 400  # no CSRF token


def count_queries(client, url):
    statements = []

    def record(conn, cursor, statement, *rest):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_workspace_page_queries_do_not_grow_with_tracks_and_listens(band_world, client):
    alex, sam, band = band_world["alex"], band_world["sam"], band_world["band"]
    sign_in(client, alex.email)
    url = f"/w/{band.id}"
    few = count_queries(client, url)
    for _ in range(30):
        track = make_track(alex, band=band, duration=10.0)
        listen(sam, track, 6)
        set_reaction(alex, track, "liked")
    assert count_queries(client, url) == few


def test_concurrent_first_beacons_make_one_row(pg_app, race_app):
    """Several tabs (or retries) beaconing at once for the same member and track: one row, no error."""
    owner = make_profile(tier="band")
    track = make_track(owner, duration=300.0)
    owner_id, track_id = owner.id, track.id  # plain values: the threads must not touch this session
    threads, outcomes = 12, []
    barrier = threading.Barrier(threads, timeout=30)
    start = utcnow()

    def beacon(n):
        with race_app.app_context():
            profile, version = db.session.get(Profile, owner_id), db.session.get(Track, track_id)
            barrier.wait()
            try:
                record_progress(profile, version, 10, 5, start + timedelta(milliseconds=n))
                outcomes.append("ok")
            except Exception as exc:  # recorded so a failure shows instead of a silent thread death
                outcomes.append(repr(exc))

    workers = [threading.Thread(target=beacon, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert outcomes == ["ok"] * threads
    db.session.expire_all()
    rows = db.session.scalars(select(TrackEngagement).where(TrackEngagement.track_id == track_id)).all()
    assert len(rows) == 1
    # The first beacon is credited in full; the others arrive "at once" and get only the slack.
    assert rows[0].seconds_listened <= 5 + (threads - 1) * (engagement.SLACK_SECONDS + 0.02)


def test_member_rows_list_every_member_even_without_engagement(band_world):
    alex, band, track = band_world["alex"], band_world["band"], band_world["track"]
    extra = make_profile(name="Zed")
    db.session.add(BandMember(band_id=band.id, profile_id=extra.id, role="member"))
    db.session.commit()
    summary, rows = engagement.track_detail(resolve(alex, str(band.id)), track)
    assert [(r.name, r.label) for r in rows] == [("Alex", "not yet"), ("Sam", "not yet"), ("Zed", "not yet")]
    assert summary.label == "0/3 listened"
