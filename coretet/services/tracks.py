"""Editing tracks: titles, and moving a track between the personal and a band workspace."""
from sqlalchemy import delete, select

from coretet.extensions import db
from coretet.models import Band, PlaylistTrack, Profile
from coretet.services import storage
from coretet.services.uploads import QuotaExceeded, clean_text
from coretet.services.workspaces import Forbidden


def rename(track, title):
    """Set a new title; blank or unprintable input falls back to a readable title."""
    cleaned = clean_text(title or "")
    if cleaned == "Untitled" and (title or "").strip() != "Untitled":
        raise Forbidden("Give the track a title.")
    track.title = cleaned
    db.session.commit()
    return track


def move(track, source, target):
    """Move a track to another of the user's workspaces; the target's quota decides.

    The storage triggers credit the source and charge the target. The track leaves
    the source's playlists, since playlists hold tracks of their own workspace only.
    """
    if source.slug == target.slug:
        return track
    target.require_writable("move tracks into it")
    source.require_writable("move tracks out of it")
    if not source.is_personal and track.created_by != source.profile.id and not source.can_manage:
        raise Forbidden("Only the person who uploaded this track, or a band admin, can move it.")
    size = track.file_size
    db.session.execute(delete(PlaylistTrack).where(PlaylistTrack.track_id == track.id))
    track.band_id = None if target.is_personal else target.band.id
    track.created_by = source.profile.id if target.is_personal else track.created_by
    db.session.flush()
    model, account_id = (Profile, source.profile.id) if target.is_personal else (Band, target.band.id)
    used, limit = db.session.execute(
        select(model.storage_used, model.storage_limit).where(model.id == account_id)
    ).one()
    if used > limit:
        db.session.rollback()
        raise QuotaExceeded(storage.quota_message(used - size, limit, size, band=not target.is_personal))
    db.session.commit()
    return track
