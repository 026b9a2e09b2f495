"""Uploads on both databases: content check, exact quota, nothing left behind; the S3 store against moto."""
import hashlib
import io
import os
import time
import urllib.request
import uuid
from unittest import mock

import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coretet.extensions import db
from coretet.models import Track
from coretet.services import uploads
from coretet.services.audio import REFUSAL
from coretet.services.filestore import FileStoreError, S3FileStore, new_key, store_from_config
from coretet.services.uploads import (
    FileTooLarge, NotAudio, QuotaExceeded, ReadOnlyBand, delete_track, store_upload, sweep_orphans,
)
from tests.factories import make_band, make_profile
from tests.test_audio import wav_bytes

MAX = 10 * 1024 * 1024


WAV = wav_bytes(rate=8000, seconds=0.5)


class FailingStream:
    """A request body that delivers `good` bytes and then fails, as a dropped connection does."""

    def __init__(self, data, good, error):
        self.data, self.good, self.error, self.pos = data, good, error, 0

    def read(self, size=-1):
        if self.pos >= self.good:
            raise self.error
        chunk = self.data[self.pos:min(self.good, self.pos + (size if size > 0 else self.good))]
        self.pos += len(chunk)
        return chunk


UNREADABLE = FailingStream(b"", 0, AssertionError("read although it could be refused up front"))


@pytest.fixture
def store(app):
    return store_from_config(app.config)


def profile_with_limit(limit):
    profile = make_profile()
    profile.storage_limit = limit
    db.session.commit()
    return profile


def usage(row):
    db.session.expire_all()
    return row.storage_used


def assert_nothing_left(store, account):
    """No stored file, no spool file, no track row, no usage."""
    assert store.keys() == set()
    assert list(store.staging_dir().iterdir()) == []
    assert db.session.scalar(select(func.count()).select_from(Track)) == 0
    assert usage(account) == 0


def test_an_accepted_upload_is_stored_and_charged_to_the_uploader(app, store):
    owner = make_profile()
    track = store_upload(store, io.BytesIO(WAV), "Demo take.wav", owner, max_bytes=MAX)
    assert (track.title, track.file_size, track.content_type) == ("Demo take", len(WAV), "audio/wav")
    assert track.duration_seconds == pytest.approx(0.5, abs=0.01)
    assert track.band_id is None and track.created_by == owner.id
    assert store.keys() == {track.storage_key}
    assert store.local_path(track.storage_key).read_bytes() == WAV
    assert usage(owner) == len(WAV)


def test_a_band_upload_is_charged_to_the_band_not_the_uploader(app, store):
    owner = make_profile(tier="band")
    band = make_band(owner)
    track = store_upload(store, io.BytesIO(WAV), "riff.wav", owner, band, max_bytes=MAX)
    assert track.band_id == band.id
    assert (usage(band), usage(owner)) == (len(WAV), 0)


def test_landing_exactly_on_the_limit_is_allowed_and_one_byte_more_is_refused(app, store):
    owner = profile_with_limit(len(WAV))
    store_upload(store, io.BytesIO(WAV), "fits.wav", owner, max_bytes=MAX)
    assert usage(owner) == len(WAV)

    tight = profile_with_limit(len(WAV) - 1)
    with pytest.raises(QuotaExceeded) as refused:
        store_upload(store, io.BytesIO(WAV), "over.wav", tight, max_bytes=MAX)
    assert refused.value.message.startswith("This file is 7.9 KB, but only 7.9 KB is left")
    assert "Delete tracks" in refused.value.message
    assert usage(tight) == 0 and len(store.keys()) == 1


def test_the_quota_is_checked_again_after_the_row_is_written(app, store):
    """Another upload that lands while this one is being stored is counted: no overshoot."""
    owner = profile_with_limit(2 * len(WAV) - 1)
    put_file = store.put_file

    def put_file_while_another_upload_commits(key, path):
        put_file(key, path)
        with Session(db.engine) as other:
            other.add(Track(title="meanwhile", storage_key=f"other/{uuid.uuid4().hex}", file_size=len(WAV),
                            content_type="audio/wav", created_by=owner.id))
            other.commit()

    store.put_file = put_file_while_another_upload_commits
    with pytest.raises(QuotaExceeded) as refused:
        store_upload(store, io.BytesIO(WAV), "late.wav", owner, max_bytes=MAX)

    assert "only 7.9 KB is left" in refused.value.message
    assert usage(owner) == len(WAV)
    assert db.session.scalars(select(Track.title)).all() == ["meanwhile"]
    assert store.keys() == set()


def test_a_declared_size_that_cannot_fit_is_refused_before_reading(app, store):
    owner = profile_with_limit(1000)
    with pytest.raises(QuotaExceeded, match="This file is 2 KB, but only 1000 B is left"):
        store_upload(store, UNREADABLE, "big.wav", owner, max_bytes=MAX, declared_size=2048)
    with pytest.raises(FileTooLarge):
        store_upload(store, UNREADABLE, "huge.wav", owner, max_bytes=1000, declared_size=1001)


@pytest.mark.parametrize("body, max_bytes, refusal, message", [
    (WAV, 4 * 1024, FileTooLarge, "That file is too large. Files can be up to 4 KB."),
    (b"la la la\n" * 100, MAX, NotAudio, REFUSAL),
], ids=["over the size cap", "text renamed .mp3"])
def test_a_refused_file_leaves_nothing(app, store, body, max_bytes, refusal, message):
    owner = make_profile()
    with pytest.raises(refusal) as refused:
        store_upload(store, io.BytesIO(body), "song.mp3", owner, max_bytes=max_bytes)
    assert refused.value.message == message
    assert_nothing_left(store, owner)


def test_a_path_in_the_file_name_is_harmless(app, store, tmp_path):
    owner = make_profile()
    track = store_upload(store, io.BytesIO(WAV), "../../x.mp3", owner, max_bytes=MAX)
    assert track.title == "x"
    assert track.storage_key.startswith("tracks/") and "x" not in track.storage_key.split("/")
    assert store.local_path(track.storage_key).is_relative_to(store.root)
    assert not (store.root / "../../x.mp3").resolve().exists() and not list(tmp_path.rglob("x.mp3"))


@pytest.mark.parametrize("filename, title", [
    ("C:\\Users\\me\\Take 2.wav", "Take 2"),
    ("bad\x00name\x1b[31m\n.wav", "bad name [31m"),
    ("", "Untitled"),
    (".wav", ".wav"),
    ("x" * 300 + ".wav", "x" * 200),
])
def test_titles_are_cleaned_file_names(filename, title):
    assert uploads.clean_title(filename) == title


@pytest.mark.parametrize("error", [ConnectionResetError("client went away"), KeyboardInterrupt()])
def test_a_client_that_disconnects_mid_upload_leaves_nothing(app, store, error):
    owner = make_profile()
    with pytest.raises(type(error)):
        store_upload(store, FailingStream(WAV, len(WAV) // 2, error), "cut.wav", owner, max_bytes=MAX)
    assert_nothing_left(store, owner)


def test_a_failure_after_the_row_is_written_leaves_nothing(app, store, monkeypatch):
    """Even an interrupt between the insert and the commit removes the stored file and the charge."""
    owner = make_profile()
    # The early check passes; the re-check after the insert is interrupted.
    monkeypatch.setattr(uploads, "_usage", mock.Mock(side_effect=[(0, MAX), KeyboardInterrupt]))
    with pytest.raises(KeyboardInterrupt):
        store_upload(store, io.BytesIO(WAV), "take.wav", owner, max_bytes=MAX)
    assert_nothing_left(store, owner)


def test_a_read_only_band_refuses_uploads(app, store):
    owner = make_profile(tier="band")
    band = make_band(owner, read_only=True)
    with pytest.raises(ReadOnlyBand, match="read-only"):
        store_upload(store, UNREADABLE, "new.wav", owner, band, max_bytes=MAX)


def test_deleting_a_track_credits_the_workspace_and_removes_the_file(app, store):
    owner = make_profile()
    track = store_upload(store, io.BytesIO(WAV), "gone.wav", owner, max_bytes=MAX)
    delete_track(store, track)
    assert usage(owner) == 0
    assert store.keys() == set()


def test_the_sweep_removes_only_old_files_without_a_row(app, store):
    owner = make_profile()
    kept = store_upload(store, io.BytesIO(WAV), "kept.wav", owner, max_bytes=MAX)
    old_orphan, young_orphan = new_key(), new_key()
    for key in (old_orphan, young_orphan):
        store.save(key, io.BytesIO(WAV))
    stale_spool = store.staging_dir() / ".upload-stale"
    stale_spool.write_bytes(b"half an upload")
    two_hours_ago = time.time() - 7200
    for path in (store.local_path(old_orphan), store.local_path(kept.storage_key), stale_spool):
        os.utime(path, (two_hours_ago, two_hours_ago))

    assert sweep_orphans(store) == [old_orphan]
    assert store.keys() == {kept.storage_key, young_orphan}
    assert not stale_spool.exists()


# --- the S3 backend, against moto's server on this machine ---

@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint):
    """A store on a new bucket, made from the settings a deployment would use."""
    store = store_from_config({
        "STORAGE_BACKEND": "s3", "S3_BUCKET": f"coretet-{uuid.uuid4().hex[:12]}", "S3_PREFIX": "media",
        "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test",
    })
    store.client.create_bucket(Bucket=store.bucket)
    return store


def unfinished_multipart_uploads(s3):
    return s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])


def test_the_s3_store_saves_opens_sizes_lists_and_deletes_in_parts(s3_store):
    assert isinstance(s3_store, S3FileStore)
    key = new_key()
    assert s3_store.save(key, io.BytesIO(WAV)) == len(WAV)
    assert s3_store.exists(key) and not s3_store.exists(new_key())
    assert s3_store.size(key) == len(WAV)
    with s3_store.open(key) as body:
        assert body.read() == WAV
    assert s3_store.keys() == {key}
    assert s3_store.listing()[key] == pytest.approx(time.time(), abs=60)
    assert s3_store.client.head_object(Bucket=s3_store.bucket, Key=f"media/{key}")["ContentLength"] == len(WAV)
    s3_store.delete(key)
    assert s3_store.keys() == set() and not s3_store.exists(key)

    large = os.urandom(19 * 1024 * 1024)  # several parts, from a stream that can't seek
    assert s3_store.save(key, FailingStream(large, len(large) + 1, AssertionError())) == len(large)
    with s3_store.open(key) as body:
        assert hashlib.sha256(body.read()).digest() == hashlib.sha256(large).digest()


@pytest.mark.parametrize("error", [ConnectionResetError("client went away"), KeyboardInterrupt()])
def test_a_failed_s3_save_leaves_no_object(s3_store, error):
    data = os.urandom(19 * 1024 * 1024)
    with pytest.raises(type(error)):
        s3_store.save(new_key(), FailingStream(data, 12 * 1024 * 1024, error))
    with pytest.raises(FileStoreError):
        s3_store.save(new_key(), io.BytesIO(WAV), max_bytes=len(WAV) - 1)

    assert s3_store.keys() == set()
    assert unfinished_multipart_uploads(s3_store) == []


def test_an_s3_presigned_url_serves_the_bytes_with_the_content_type(s3_store):
    key = new_key()
    s3_store.save(key, io.BytesIO(WAV))
    url = s3_store.presigned_url(key, 300, content_type="audio/wav")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == WAV
        assert response.headers["Content-Type"] == "audio/wav"
    assert not hasattr(store_from_config({"STORAGE_BACKEND": "local", "STORAGE_DIR": "x"}), "presigned_url")


def test_an_upload_through_the_s3_store(app, s3_store):
    owner = make_profile()
    track = store_upload(s3_store, io.BytesIO(WAV), "cloud.wav", owner, max_bytes=MAX)
    assert s3_store.keys() == {track.storage_key}
    assert usage(owner) == len(WAV)
    delete_track(s3_store, track)
    assert s3_store.keys() == set() and usage(owner) == 0
