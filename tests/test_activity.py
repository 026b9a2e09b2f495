"""Band activity (SPEC §9): uploads, new versions, comments and listens, newest first, for members only."""
import uuid
from datetime import timedelta

import pytest

from coretet.extensions import db
from coretet.models import Track, TrackComment, TrackEngagement, utcnow
from coretet.services import activity
from coretet.services.engagement import record_progress
from tests.auth_helpers import sign_in
from tests.factories import make_band, make_comment, make_profile, make_track

HX = {"HX-Request": "true"}


def at(row, moment):
    """Pin a row's timestamp so the order is known."""
    if isinstance(row, TrackEngagement):
        row.listened_at = moment
    else:
        row.created_at = moment
    db.session.commit()
    return row


def new_version(track, uploader, notes):
    version = Track(title=track.title, storage_key=f"test/{uuid.uuid4().hex}", file_size=10,
                    duration_seconds=track.duration_seconds, content_type="audio/wav", created_by=uploader.id,
                    band_id=track.band_id, lineage_id=track.lineage_id, version_number=2, version_notes=notes)
    db.session.add(version)
    db.session.commit()
    return version


@pytest.fixture
def world(app):
    alex = make_profile(email="alex@example.com", name="Alex", tier="band")
    sam = make_profile(email="sam@example.com", name="Sam")
    olga = make_profile(email="olga@example.com", name="Olga", tier="band")
    band, other = make_band(alex, members=[sam], name="Night Shift"), make_band(olga, name="Elsewhere")
    start = utcnow() - timedelta(hours=2)
    song = at(make_track(alex, band=band, title="Late Bus Home", duration=10.0), start)
    v2 = at(new_version(song, sam, "fixed bass"), start + timedelta(minutes=10))
    at(make_comment(sam, song, body="Love the bridge", position=75.0), start + timedelta(minutes=20))
    listened = record_progress(alex, v2, 6, 6, start + timedelta(minutes=30))
    assert listened.listened_at is not None
    # Band B's own life, and Alex's personal space: never in Night Shift's activity.
    secret = at(make_track(olga, band=other, title="Secret Song"), start + timedelta(minutes=40))
    at(make_comment(olga, secret, body="Other band talk"), start + timedelta(minutes=41))
    record_progress(olga, secret, 20, 15, start + timedelta(minutes=42))
    at(make_track(alex, title="Personal Sketch"), start + timedelta(minutes=43))
    return {"alex": alex, "sam": sam, "olga": olga, "band": band, "other": other, "song": song, "v2": v2}


def test_activity_lists_uploads_versions_comments_and_listens_newest_first(world, client):
    sign_in(client, "sam@example.com")
    page = client.get(f"/w/{world['band'].id}/activity")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    lines = [
        "<strong>Alex</strong> listened to",
        "<strong>Sam</strong> commented on",
        "<strong>Sam</strong> uploaded version 2 of",
        "<strong>Alex</strong> uploaded\n",
    ]
    positions = [html.find(line) for line in lines]
    assert -1 not in positions, positions
    assert positions == sorted(positions)
    assert "at 1:15: Love the bridge" in html and "fixed bass" in html
    assert f"/tracks/{world['v2'].id}" in html


def test_other_bands_and_personal_spaces_never_appear(world, client):
    sign_in(client, "alex@example.com")
    html = client.get(f"/w/{world['band'].id}/activity").get_data(as_text=True)
    for foreign in ("Secret Song", "Other band talk", "Olga", "Personal Sketch"):
        assert foreign not in html
    events, _ = activity.band_activity(world["band"])
    assert {event.track_title for event in events} == {"Late Bus Home"}


def test_only_members_see_a_bands_activity(world, client):
    sign_in(client, "olga@example.com")
    assert client.get(f"/w/{world['band'].id}/activity").status_code == 404
    assert client.get(f"/w/{uuid.uuid4()}/activity").status_code == 404
    assert client.get("/w/me/activity").status_code == 404  # a personal space has no band activity


def test_former_members_listens_leave_the_list_but_their_work_stays(world, client):
    from sqlalchemy import delete

    from coretet.models import BandMember

    db.session.execute(delete(BandMember).where(BandMember.profile_id == world["alex"].id,
                                                BandMember.band_id == world["band"].id))
    db.session.commit()
    kinds = [event.kind for event in activity.band_activity(world["band"])[0]]
    assert kinds == ["comment", "version", "upload"]


def test_the_band_nav_links_to_activity(world, client):
    sign_in(client, "sam@example.com")
    home = client.get(f"/w/{world['band'].id}").get_data(as_text=True)
    assert f'href="/w/{world["band"].id}/activity">Activity</a>' in home
    assert "/activity" not in client.get("/w/me").get_data(as_text=True)


def test_older_events_load_page_by_page(world, client):
    start = utcnow() - timedelta(days=3)
    for n in range(7):
        at(make_comment(world["sam"], world["song"], body=f"old note {n}"), start + timedelta(minutes=n))
    first, cursor = activity.band_activity(world["band"], limit=5)
    second, cursor2 = activity.band_activity(world["band"], before=cursor, limit=5)
    third, cursor3 = activity.band_activity(world["band"], before=cursor2, limit=5)
    seen = [event.at for event in first + second + third]
    assert len(seen) == 4 + 7 and seen == sorted(seen, reverse=True) and cursor3 is None

    sign_in(client, "sam@example.com")
    more = client.get(f"/w/{world['band'].id}/activity", query_string={"before": cursor.isoformat()}, headers=HX)
    assert more.status_code == 200 and "<html" not in more.get_data(as_text=True)
    assert "old note 5" in more.get_data(as_text=True) and "old note 6" not in more.get_data(as_text=True)
    assert client.get(f"/w/{world['band'].id}/activity", query_string={"before": "yesterday"}).status_code == 200


def test_comment_count_and_names_come_from_few_queries(world, client):
    from sqlalchemy import event

    def queries():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/w/{world['band'].id}/activity", headers=HX).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    sign_in(client, "sam@example.com")
    few = queries()
    for n in range(20):
        make_comment(world["alex"], world["song"], body=f"note {n}")
    assert queries() == few
    assert db.session.query(TrackComment).count() == 22
