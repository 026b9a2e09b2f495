"""Comments on one track version (SPEC §9): general or at a moment, one level of replies, voice memos.

Threads are one level deep: a reply to a reply joins the same thread (its top-level
comment), like most chat threads, so a thread never drifts off the page on a phone.
The author edits and deletes their own comments; a band's owner and admins may also
delete (never edit) other members' comments, to tidy a thread. A voice memo is stored
through the file store and counted in the track's workspace storage by database
triggers, with the same insert-then-check quota rule as uploads.
"""
import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import delete, func, select

from coretet.extensions import db
from coretet.models import Band, Profile, TrackComment, utcnow
from coretet.services import storage, tiers
from coretet.services.audio import NotAudioError, sniff_voice
from coretet.services.filestore import CHUNK
from coretet.services.storage import format_duration
from coretet.services.uploads import discard, staged
from coretet.services.workspaces import Forbidden, NotFound, parse_id

log = logging.getLogger(__name__)

BODY_MAX = 2000
VOICE_SECONDS = 30
# MediaRecorder stops a moment after its 30-second timer fires; anything longer is refused.
VOICE_TOLERANCE_SECONDS = 0.5
# 30 s of Opus is ~0.5 MB; this leaves room for a WAV or m4a attached by hand.
VOICE_MAX_BYTES = 8 * 1024 * 1024
VOICE_PREFIX = "voice"


class CommentError(ValueError):
    """A comment that cannot be saved as sent; the message tells the user what to change."""


class VoiceQuotaExceeded(CommentError):
    """The memo would take the track's workspace over its storage limit."""


class FeatureLocked(Exception):
    """The workspace's tier does not include this feature; `decision` carries the upgrade reason."""

    def __init__(self, decision):
        super().__init__(decision.reason)
        self.decision = decision


@dataclass
class Entry:
    """A comment with its author's name and, for a top-level comment, its replies."""

    comment: TrackComment
    author_name: str
    replies: list = field(default_factory=list)

    @property
    def at_label(self):
        position = self.comment.position_seconds
        return None if position is None else format_duration(position)


def _require(workspace, feature):
    decision = tiers.can_use_feature(workspace.feature_tier, feature)
    if not decision.allowed:
        raise FeatureLocked(decision)


def clean_body(body):
    """Trimmed text, at most BODY_MAX characters; control characters other than newlines go."""
    text = "".join(ch for ch in (body or "") if ch in "\n\t" or ch.isprintable())
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    if len(text) > BODY_MAX:
        raise CommentError(f"Comments can be up to {BODY_MAX} characters; this one has {len(text)}.")
    return text


def parse_position(value, track):
    """Seconds into the track from a form value ("83.5"), or None for a general comment."""
    if value is None or str(value).strip() == "":
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise CommentError("The moment in the track should be a number of seconds.") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise CommentError("The moment in the track should be a number of seconds, 0 or more.")
    if track.duration_seconds is not None and seconds > track.duration_seconds:
        raise CommentError(f"That moment is past the end of the track ({format_duration(track.duration_seconds)}).")
    return round(seconds, 2)


def get_comment(track, comment_id):
    """A comment of this track version; anything else (another track, band or nothing) is NotFound."""
    comment = db.session.scalar(select(TrackComment).where(
        TrackComment.id == parse_id(comment_id), TrackComment.track_id == track.id))
    if comment is None:
        raise NotFound()
    return comment


def thread(track):
    """The track's comments as threads (oldest first, replies under their comment), in one query."""
    rows = db.session.execute(
        select(TrackComment, Profile.name)
        .join(Profile, Profile.id == TrackComment.author_id)
        .where(TrackComment.track_id == track.id)
        .order_by(TrackComment.created_at, TrackComment.id)
    ).all()
    entries = {comment.id: Entry(comment, name) for comment, name in rows}
    top = []
    for entry in entries.values():
        parent = entries.get(entry.comment.parent_id)
        (parent.replies if parent else top).append(entry)
    return top


def _version(count, latest):
    if not count:
        return "0"
    if isinstance(latest, str):  # in case a driver hands back max() of a timestamp as text
        latest = datetime.fromisoformat(latest)
    return f"{count}-{latest.astimezone(timezone.utc).replace(tzinfo=None).isoformat()}"


def thread_version(track):
    """A short token that changes whenever a comment of the track is added, edited or deleted."""
    count, latest = db.session.execute(
        select(func.count(TrackComment.id), func.max(TrackComment.updated_at))
        .where(TrackComment.track_id == track.id)
    ).one()
    return _version(count, latest)


def version_of(entries):
    """thread_version() computed from an already loaded thread (no query)."""
    everything = [entry.comment for top in entries for entry in (top, *top.replies)]
    return _version(len(everything), max((c.updated_at for c in everything), default=None))


def entry(track, comment_id):
    """One comment of this track with its author's name (replies not loaded)."""
    row = db.session.execute(
        select(TrackComment, Profile.name).join(Profile, Profile.id == TrackComment.author_id)
        .where(TrackComment.id == parse_id(comment_id), TrackComment.track_id == track.id)
    ).first()
    if row is None:
        raise NotFound()
    return Entry(*row)


def require_author(comment, profile):
    if comment.author_id != profile.id:
        raise Forbidden("Only the person who wrote a comment can edit it.")


def markers(entries):
    """Waveform markers for the timestamped top-level comments: [{seconds, id, label}]."""
    return [
        {"seconds": entry.comment.position_seconds, "id": str(entry.comment.id),
         "label": _marker_label(entry)}
        for entry in entries if entry.comment.position_seconds is not None
    ]


def _marker_label(entry):
    """"Sam: Love the bridge" (the waveform adds the time); long comments are cut."""
    text = " ".join(entry.comment.body.split()) or ("Voice memo" if entry.comment.voice_storage_key else "")
    text = text if len(text) <= 60 else text[:59].rstrip() + "…"
    return f"{entry.author_name}: {text}" if text else entry.author_name


def _usage(track):
    model, account_id = (Band, track.band_id) if track.band_id else (Profile, track.created_by)
    used, limit = db.session.execute(
        select(model.storage_used, model.storage_limit).where(model.id == account_id)).one()
    return used, limit


def _quota_message(used, limit, size, track):
    message = storage.quota_message(used, limit, size, band=track.band_id is not None)
    return message.replace("This file is", "This voice memo is", 1)


def _spool(stream, path):
    written = 0
    with open(path, "xb") as out:
        while chunk := stream.read(CHUNK):
            written += len(chunk)
            if written > VOICE_MAX_BYTES:
                raise CommentError(f"That recording is too large; voice memos can be up to "
                                   f"{storage.format_bytes(VOICE_MAX_BYTES)}.")
            out.write(chunk)
    if not written:
        raise CommentError("The recording is empty. Record again.")
    return written


def create(workspace, track, author, body="", position=None, parent_id=None, voice=None, store=None):
    """Save a comment (optionally a reply, at a moment, or with a voice memo); commits and returns it.

    `voice` is a readable binary stream with the recording; its type and length are
    decided from its content. Raises CommentError, FeatureLocked, NotFound (parent).
    """
    text = clean_body(body)
    parent = None
    if parent_id:
        parent = get_comment(track, parent_id)
        if parent.parent_id is not None:
            parent = get_comment(track, parent.parent_id)
    seconds = None if parent else parse_position(position, track)
    if seconds is not None:
        _require(workspace, "timestamped_comments")
    if voice is not None:
        _require(workspace, "voice_comments")
    elif not text:
        raise CommentError("Write a comment first." if not parent else "Write a reply first.")
    comment = TrackComment(id=uuid.uuid4(), track_id=track.id, author_id=author.id,
                           parent_id=parent.id if parent else None, body=text, position_seconds=seconds)
    if voice is None:
        db.session.add(comment)
        db.session.commit()
        return comment
    return _create_with_voice(comment, track, voice, store)


def _create_with_voice(comment, track, voice, store):
    """Store the memo, insert the row (the triggers charge it), then check the quota as uploads do."""
    with staged(store) as upload:
        size = _spool(voice, upload.spool)
        try:
            info = sniff_voice(upload.spool)
        except NotAudioError as exc:
            raise CommentError(str(exc)) from exc
        if info.duration_seconds > VOICE_SECONDS + VOICE_TOLERANCE_SECONDS:
            raise CommentError(f"Voice memos can be up to {VOICE_SECONDS} seconds; this one is "
                               f"{format_duration(info.duration_seconds)}.")
        used, limit = _usage(track)
        if not storage.fits(used, limit, size):
            raise VoiceQuotaExceeded(_quota_message(used, limit, size, track))
        key = upload.keep(VOICE_PREFIX)
        comment.voice_storage_key, comment.voice_size = key, size
        comment.voice_duration = round(min(info.duration_seconds, VOICE_SECONDS + VOICE_TOLERANCE_SECONDS), 2)
        comment.voice_content_type = info.content_type
        db.session.add(comment)
        db.session.flush()
        used, limit = _usage(track)
        if limit is not None and used > limit:
            raise VoiceQuotaExceeded(_quota_message(used - size, limit, size, track))
        upload.committing()
        db.session.commit()
        return comment


def edit(comment, editor, body):
    """Change the text of one's own comment; marks it edited."""
    require_author(comment, editor)
    text = clean_body(body)
    if not text and not comment.voice_storage_key:
        raise CommentError("A comment can't be empty. Delete it instead.")
    if text != comment.body:
        comment.body = text
        comment.edited_at = utcnow()
    db.session.commit()
    return comment


def can_delete(workspace, comment):
    """The author, or a band's owner or admin (moderation); never anyone outside the workspace."""
    return comment.author_id == workspace.profile.id or (not workspace.is_personal and workspace.can_manage)


def remove(workspace, comment, store):
    """Delete a comment and its replies; their voice memos are credited, then their files deleted."""
    if not can_delete(workspace, comment):
        raise Forbidden("Only the person who wrote a comment, or a band admin, can delete it.")
    ids = [comment.id, *db.session.scalars(select(TrackComment.id).where(TrackComment.parent_id == comment.id))]
    keys = [key for key in db.session.scalars(
        select(TrackComment.voice_storage_key).where(TrackComment.id.in_(ids))) if key]
    try:
        # Replies first, explicitly, so each row's delete trigger credits its memo.
        db.session.execute(delete(TrackComment).where(TrackComment.parent_id == comment.id))
        db.session.execute(delete(TrackComment).where(TrackComment.id == comment.id))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    for key in keys:
        discard(store, key)
    return ids


def voice_keys(track_ids):
    """Voice memo files of these tracks' comments (so deleting tracks can delete them too)."""
    return [key for key in db.session.scalars(
        select(TrackComment.voice_storage_key).where(TrackComment.track_id.in_(track_ids))) if key]


@dataclass(frozen=True)
class VoiceFile:
    """What media.stream_response needs to serve a memo: key, type and an id for its logs."""

    id: uuid.UUID
    storage_key: str
    content_type: str


def voice_file(track, comment_id):
    comment = get_comment(track, comment_id)
    if not comment.voice_storage_key:
        raise NotFound()
    return VoiceFile(comment.id, comment.voice_storage_key, comment.voice_content_type or "audio/webm")
