"""Uploading and deleting tracks: streamed to disk, checked by content, charged to the workspace exactly.

The quota holds under concurrency without application locks: the track row is
inserted first, the storage trigger charges the workspace row (on PostgreSQL its
row lock queues concurrent uploads to the same workspace), and the charged total
is then read back in the same transaction and rolled back if it is over.
"""
import logging
import os
import re
import time
import unicodedata
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coretet.extensions import db
from coretet.models import Band, Profile, Track, TrackComment
from coretet.services import storage, versions
from coretet.services.audio import NotAudioError, sniff
from coretet.services.filestore import CHUNK, new_key

log = logging.getLogger(__name__)

TITLE_MAX = 200
SPOOL_PREFIX = ".upload-"
SWEEP_BATCH = 500
READ_ONLY_MESSAGE = (
    "This band is read-only, so uploads are paused. "
    "The band's owner can renew its plan to upload again."
)


class UploadError(Exception):
    """An upload refused for a reason the uploader can act on; `message` is shown to them."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class QuotaExceeded(UploadError):
    """The file would take the workspace over its storage limit."""


class FileTooLarge(UploadError):
    """The file is over the per-upload size cap."""


class Interrupted(UploadError):
    """Fewer bytes arrived than the client announced: the connection dropped mid-upload."""


class NotAudio(UploadError):
    """The file is not audio CoreTet can play."""


class ReadOnlyBand(UploadError):
    """The band is read-only (after a downgrade) and takes no uploads."""


def clean_title(filename):
    """A track title from an uploaded file name: base name without extension, printable, bounded."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return clean_text(os.path.splitext(name)[0])


def clean_text(stem):
    """Printable, single-spaced, at most TITLE_MAX characters; "Untitled" when nothing is left."""
    # Control, format and surrogate characters go (they break layouts, SMS and UTF-8);
    # the zero-width joiner stays so emoji sequences survive.
    text = "".join(
        " " if unicodedata.category(ch).startswith("C") and ch != "\u200d" else ch for ch in stem
    )
    text = " ".join(text.split())[:TITLE_MAX].strip()
    return text or "Untitled"


def too_large_message(max_bytes):
    return f"That file is too large. Files can be up to {storage.format_bytes(max_bytes)}."


def _usage(model, account_id):
    """The workspace's storage_used and storage_limit as the database has them now."""
    return db.session.execute(
        select(model.storage_used, model.storage_limit).where(model.id == account_id)
    ).one()


def _check_room(model, account_id, size):
    used, limit = _usage(model, account_id)
    if not storage.fits(used, limit, size):
        raise QuotaExceeded(storage.quota_message(used, limit, size, band=model is Band))


def _spool(stream, path, max_bytes):
    """Copy the request body to a local file chunk by chunk; returns its size."""
    written = 0
    with open(path, "xb") as out:
        while chunk := stream.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise FileTooLarge(too_large_message(max_bytes))
            out.write(chunk)
    return written


def discard(store, key):
    """Remove a stored file; if that fails, sweep_orphans removes it later."""
    try:
        store.delete(key)
    except Exception:
        log.warning("could not delete stored file %s; sweep_orphans will remove it", key, exc_info=True)


class Staged:
    """An upload on its way in: a temporary spool file and, once stored, its storage key."""

    def __init__(self, store):
        self.store = store
        self.spool = Path(store.staging_dir()) / f"{SPOOL_PREFIX}{uuid.uuid4().hex}"
        self.key = None

    def keep(self, prefix="tracks"):
        """Copy the spool into the store under a new key, deleted again if the block fails."""
        self.key = new_key(prefix)
        self.store.put_file(self.key, self.spool)
        return self.key

    def committing(self):
        """Call just before COMMIT: a COMMIT that fails may still have landed, so from
        here the file is left for sweep_orphans to judge rather than deleted."""
        self.key = None


@contextmanager
def staged(store):
    """A spool for one upload. If the block raises, the session is rolled back and any
    stored copy deleted; the spool file always goes."""
    upload = Staged(store)
    try:
        yield upload
    except BaseException:
        try:
            db.session.rollback()
        finally:
            if upload.key is not None:
                discard(store, upload.key)
        raise
    finally:
        upload.spool.unlink(missing_ok=True)


def store_upload(store, stream, filename, uploader, band=None, *, max_bytes, declared_size=None,
                 version_of=None, notes=""):
    """Store one uploaded file as a track in the uploader's or the band's workspace.

    With `version_of` (a track of that workspace) the file becomes the song's next
    version: same title and lineage, the next version number, and `notes`.
    Commits on success, then queues its analysis; on any failure rolls the session
    back and leaves no stored file, no temporary file, no row and no usage. (Only
    if COMMIT itself fails is the file kept, since that commit may have landed; the sweep decides.)
    """
    model, account_id = (Band, band.id) if band is not None else (Profile, uploader.id)
    uploader_id = uploader.id
    if band is not None and band.read_only:
        raise ReadOnlyBand(READ_ONLY_MESSAGE)
    if declared_size is not None:
        if declared_size > max_bytes:
            raise FileTooLarge(too_large_message(max_bytes))
        _check_room(model, account_id, declared_size)

    with staged(store) as upload:
        size = _spool(stream, upload.spool, max_bytes)
        # Servers like gunicorn hand over a short body silently when the client goes away.
        if declared_size is not None and size != declared_size:
            raise Interrupted("The upload was interrupted before the whole file arrived. Try again.")
        try:
            info = sniff(upload.spool)
        except NotAudioError as exc:
            raise NotAudio(str(exc)) from exc
        # Cheap early refusal; the exact check is the one after the insert below.
        _check_room(model, account_id, size)
        key = upload.keep()
        track = Track(
            title=clean_title(filename), storage_key=key, file_size=size,
            duration_seconds=info.duration_seconds, content_type=info.content_type,
            created_by=uploader_id, band_id=account_id if model is Band else None,
        )
        if version_of is not None:
            track.title, track.lineage_id, track.version_notes = version_of.title, version_of.lineage_id, notes
            track.version_number = versions.next_number(version_of.lineage_id)
        db.session.add(track)
        try:
            db.session.flush()
        except IntegrityError as exc:
            if version_of is None:
                raise
            raise UploadError("Another version of this song was saved at the same moment. Try again.") from exc
        used, limit = _usage(model, account_id)
        if limit is not None and used > limit:
            raise QuotaExceeded(
                storage.quota_message(used - size, limit, size, band=model is Band)
            )
        upload.committing()
        from coretet.tasks import queue_analysis  # tasks imports services; import late

        queue_analysis(track.id)  # waveform and loudness, in the worker after the commit
        db.session.commit()
        return track


def delete_track(store, track):
    """Delete a track: the row first (crediting its workspace, voice memos included), then its files."""
    keys = [track.storage_key, *db.session.scalars(
        select(TrackComment.voice_storage_key).where(TrackComment.track_id == track.id,
                                                     TrackComment.voice_storage_key.is_not(None)))]
    try:
        db.session.delete(track)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    for key in keys:
        discard(store, key)


def sweep_orphans(store, older_than_seconds=3600):
    """Delete stored files without a track row, and stale upload spools; returns the keys deleted.

    Young files are left alone: an upload stores its file a moment before its row commits.
    """
    cutoff = time.time() - older_than_seconds
    candidates = [key for key, modified in store.listing().items() if modified < cutoff]
    known = set()
    for start in range(0, len(candidates), SWEEP_BATCH):
        batch = candidates[start:start + SWEEP_BATCH]
        known.update(db.session.scalars(select(Track.storage_key).where(Track.storage_key.in_(batch))))
        known.update(db.session.scalars(  # voice memos of comments live in the same store
            select(TrackComment.voice_storage_key).where(TrackComment.voice_storage_key.in_(batch))))
    orphans = sorted(key for key in candidates if key not in known)
    for key in orphans:
        store.delete(key)
    for spool in Path(store.staging_dir()).glob(f"{SPOOL_PREFIX}*"):
        if spool.stat().st_mtime < cutoff:
            spool.unlink(missing_ok=True)
    if orphans:
        log.info("swept %d orphaned files", len(orphans))
    return orphans
