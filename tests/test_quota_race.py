"""The quota race (QUALITY.md) on PostgreSQL: 50 uploads of 10 MB released together into 100 MB of room."""
import io
import threading
import wave

import pytest
from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import Band, Profile, Track
from coretet.services.filestore import store_from_config
from coretet.services.uploads import QuotaExceeded, store_upload
from tests.factories import make_band, make_profile
from tests.test_audio import wav_bytes

THREADS = 50
FILE_SIZE = 10 * 1024 * 1024
ROOM = 10 * FILE_SIZE
WAV_HEADER = 44


def write_wav(path, size):
    """A 16-bit stereo WAV of exactly `size` bytes."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(bytes(range(256)) * ((size - WAV_HEADER) // 256) + bytes((size - WAV_HEADER) % 256))
    assert path.stat().st_size == size


@pytest.fixture(scope="module")
def ten_mb_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("race") / "take.wav"
    write_wav(path, FILE_SIZE)
    return path


def small_upload(store, uploader, band=None):
    """A track that was there before the race, so the room is not simply the whole limit."""
    stream = io.BytesIO(wav_bytes(rate=8000, seconds=0.25))
    return store_upload(store, stream, "earlier.wav", uploader, band, max_bytes=FILE_SIZE)


def race(app, wav, uploader_ids, band_id=None):
    """Run THREADS uploads, each in its own app context and session, released by one barrier."""
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes = []

    def upload(uploader_id):
        with app.app_context():
            store = store_from_config(app.config)
            uploader = db.session.get(Profile, uploader_id)
            band = db.session.get(Band, band_id) if band_id else None
            with open(wav, "rb") as stream:
                barrier.wait()
                try:
                    store_upload(store, stream, "take.wav", uploader, band, max_bytes=FILE_SIZE)
                    outcomes.append("stored")
                except QuotaExceeded:
                    outcomes.append("refused")
                except Exception as exc:  # recorded so the test shows it instead of a silent thread death
                    outcomes.append(repr(exc))

    threads = [
        threading.Thread(target=upload, args=(uploader_ids[i % len(uploader_ids)],))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an upload thread hung"
    return outcomes


def assert_store_matches_rows(store):
    """Every stored file has a row and every row a file; no spool files remain."""
    db.session.expire_all()
    assert store.keys() == set(db.session.scalars(select(Track.storage_key)))
    assert list(store.staging_dir().iterdir()) == []


def test_parallel_personal_uploads_never_overshoot_the_quota(pg_app, race_app, ten_mb_wav):
    store = store_from_config(pg_app.config)
    owner = make_profile()
    earlier = small_upload(store, owner).file_size
    owner.storage_limit = earlier + ROOM
    db.session.commit()

    outcomes = race(race_app, ten_mb_wav, [owner.id])

    assert sorted(set(outcomes)) == ["refused", "stored"]
    assert outcomes.count("stored") == ROOM // FILE_SIZE
    db.session.expire_all()
    charged = db.session.scalar(
        select(func.sum(Track.file_size)).where(Track.created_by == owner.id, Track.band_id.is_(None))
    )
    assert owner.storage_used == charged == earlier + ROOM == owner.storage_limit
    assert_store_matches_rows(store)


def test_parallel_band_uploads_never_overshoot_the_band_quota(pg_app, race_app, ten_mb_wav):
    store = store_from_config(pg_app.config)
    owner, drummer, singer = make_profile(tier="band"), make_profile(), make_profile()
    band = make_band(owner, members=[drummer, singer])
    earlier = small_upload(store, drummer, band).file_size
    band.storage_limit = earlier + ROOM
    db.session.commit()

    outcomes = race(race_app, ten_mb_wav, [owner.id, drummer.id, singer.id], band.id)

    assert sorted(set(outcomes)) == ["refused", "stored"]
    assert outcomes.count("stored") == ROOM // FILE_SIZE
    db.session.expire_all()
    charged = db.session.scalar(select(func.sum(Track.file_size)).where(Track.band_id == band.id))
    assert band.storage_used == charged == earlier + ROOM == band.storage_limit
    assert [owner.storage_used, drummer.storage_used, singer.storage_used] == [0, 0, 0]
    assert_store_matches_rows(store)
