"""Command-line commands: demo data, credit rollover, admin promotion."""
import wave
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import AdminAction, Band, Playlist, Profile, SmsCredit, Track
from coretet.services import credits
from coretet.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from coretet.services.filestore import store_from_config
from tests.factories import make_profile


def test_seed_demo_creates_playable_audio_and_prints_the_logins(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for email, _ in DEMO_LOGINS:
        assert email in result.output
    assert DEMO_PASSWORD in result.output

    store = store_from_config(app.config)
    tracks = db.session.scalars(select(Track)).all()
    assert len(tracks) == 6  # five songs, one of them with a second version
    for track in tracks:
        with wave.open(str(store.local_path(track.storage_key))) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        assert abs(seconds - track.duration_seconds) < 0.01
        assert store.size(track.storage_key) == track.file_size
    assert store.keys() == {t.storage_key for t in tracks}, "every file has a row and vice versa"

    band = db.session.scalar(select(Band))
    band_bytes = sum(t.file_size for t in tracks if t.band_id == band.id)
    assert band.storage_used == band_bytes
    assert db.session.scalar(select(func.count()).select_from(Playlist)) == 2


def test_seed_demo_twice_adds_nothing(app, runner):
    runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert "already there" in second.output
    assert db.session.scalar(select(func.count()).select_from(Profile)) == len(DEMO_LOGINS)


def test_demo_login_works_in_the_browser(app, runner, client):
    from tests.auth_helpers import sign_in

    runner.invoke(args=["seed-demo"])
    response = sign_in(client, DEMO_LOGINS[0][0], DEMO_PASSWORD)
    assert response.status_code == 302
    page = client.get("/w/me").get_data(as_text=True)
    assert "Solo sketches" in page and "The Night Shift" in page


def test_rollover_opens_one_period_per_account_with_the_tier_allowance(app, runner):
    free = make_profile(tier="free")
    band = make_profile(tier="band")
    result = runner.invoke(args=["credits", "rollover"])
    assert "Opened 2 new credit periods" in result.output
    rows = {row.profile_id: row for row in db.session.scalars(select(SmsCredit))}
    assert rows[free.id].credits_total == 10 and rows[band.id].credits_total == 50
    again = runner.invoke(args=["credits", "rollover"])
    assert "Opened 0 new credit periods" in again.output


def test_unused_credits_do_not_roll_over_into_the_next_period(app):
    profile = make_profile(created_at=datetime(2026, 1, 31, 12, tzinfo=timezone.utc))
    january = credits.current_period(profile, date(2026, 2, 10))
    assert (january.period_start, january.period_end) == (date(2026, 1, 31), date(2026, 2, 28))
    january.credits_used = 3
    db.session.commit()
    march = credits.current_period(profile, date(2026, 3, 1))
    assert march.period_start == date(2026, 2, 28)
    assert march.credits_remaining == 10


def test_promote_makes_an_admin_and_records_it(app, runner):
    profile = make_profile(email="pat@example.com")
    result = runner.invoke(args=["users", "promote", "PAT@example.com"])
    assert "now an admin" in result.output
    db.session.expire_all()
    assert db.session.get(Profile, profile.id).is_admin
    assert db.session.scalar(select(AdminAction.action)) == "promote_admin"


def test_promote_an_unknown_email_fails_clearly(app, runner):
    result = runner.invoke(args=["users", "promote", "ghost@example.com"])
    assert result.exit_code != 0 and "No account" in result.output


def test_storage_sweep_removes_files_without_a_row(app, runner):
    import io
    import os

    store = store_from_config(app.config)
    store.save("tracks/aa/orphan", io.BytesIO(b"left over"))
    old = store.local_path("tracks/aa/orphan")
    os.utime(old, (0, 0))
    result = runner.invoke(args=["storage", "sweep"])
    assert "Removed 1 orphaned file." in result.output
    assert not store.exists("tracks/aa/orphan")
