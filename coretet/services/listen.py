"""Recipient access to an SMS share: code check, viewer re-checks, device binding, listen progress.

A lock (too many wrong codes across all IPs) stops new code entries only. Recipients
who already entered their code on their own phone keep listening: the lock is there
against guessing, and they have proved they hold a real code.
"""
from datetime import timedelta
import hashlib
import math

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from coretet.extensions import db
from coretet.models import (
    AccessGrant, GrantListen, Playlist, PlaylistTrack, Profile, SharedPlaylist, Track, utcnow,
)
from coretet.services import codes
from coretet.services.linking import live_grant
from coretet.services.phone import PhoneDecryptError, blind_index, decrypt_phone
from coretet.services.versions import latest_for

NOT_VALID = "This link is not valid"
SHARE_EXPIRED = "This share has expired"
LOCKED = ("This share is locked after too many wrong codes. "
          "Ask the person who shared it to unlock it.")
WRONG_CODE = "That code is not right"
REVOKED = "Access to this playlist was withdrawn"
CODE_EXPIRED = "This code has expired"
OTHER_DEVICE = "This code is already in use on another phone"

DEFAULT_FAILURE_CAP = 20


class AccessDenied(Exception):
    """The recipient may not (or no longer) listen; the message is shown to them as is."""

    def __init__(self, message, status, attempts_left=None, other_device=False, grant_id=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.attempts_left = attempts_left
        self.other_device = other_device
        self.grant_id = grant_id


def device_hash(device_id):
    """SHA-256 of the browser's random device id; the id itself is never stored."""
    return hashlib.sha256(device_id.encode("utf-8")).hexdigest()


def _expired(moment, now):
    return moment is not None and moment <= now


def _share_by_token(token):
    if not isinstance(token, str) or len(token) > 64:
        return None
    return db.session.scalar(select(SharedPlaylist).where(SharedPlaylist.share_token == token))


def _check_share(share, now):
    """The share-level refusals, in SPEC §6 order."""
    if share is None or not share.is_active:
        raise AccessDenied(NOT_VALID, 404)
    if _expired(share.expires_at, now):
        raise AccessDenied(SHARE_EXPIRED, 410)


def _check_grant(grant, now):
    """The grant-level refusals that follow a matching code, in SPEC §6 order."""
    if grant.is_revoked:
        raise AccessDenied(REVOKED, 403)
    if _expired(grant.expires_at, now):
        raise AccessDenied(CODE_EXPIRED, 410)


def share_for_page(token, now):
    """The share behind a link, or AccessDenied for an unknown, ended or expired one."""
    share = _share_by_token(token)
    _check_share(share, now)
    return share


def is_locked(share, failure_cap=DEFAULT_FAILURE_CAP):
    return share.locked_at is not None or share.failed_attempts >= failure_cap


def check_code(token, raw_code, device_id, keys, now, failure_cap=DEFAULT_FAILURE_CAP,
               notify_owner=None):
    """Return the grant whose code was typed and bind it to this device, or raise AccessDenied.

    Commits: a wrong code must count even though the request is refused.
    """
    share = share_for_page(token, now)
    if is_locked(share, failure_cap):
        raise AccessDenied(LOCKED, 423)
    grants = db.session.scalars(
        select(AccessGrant).where(AccessGrant.shared_playlist_id == share.id)
    ).all()
    # Every grant is tried, so the time taken does not tell which grant came close.
    matched = [g for g in grants if codes.verify_code(raw_code, g.code_hash, keys.code_hmac, g.id)]
    if not matched:
        _refuse_wrong_code(share, now, failure_cap, notify_owner)
    grant = matched[0]
    _check_grant(grant, now)
    if grant.code_expires_at is not None and grant.code_expires_at <= now:
        raise AccessDenied(CODE_EXPIRED, 410)
    _bind_device(grant, device_hash(device_id), now)
    return grant


def _refuse_wrong_code(share, now, failure_cap, notify_owner):
    """Add one failure atomically, lock the share at the cap (telling its owner once), then refuse."""
    failed = db.session.execute(
        update(SharedPlaylist).where(SharedPlaylist.id == share.id)
        .values(failed_attempts=SharedPlaylist.failed_attempts + 1)
        .returning(SharedPlaylist.failed_attempts)
    ).scalar_one()
    newly_locked = False
    if failed >= failure_cap:
        newly_locked = db.session.execute(
            update(SharedPlaylist)
            .where(SharedPlaylist.id == share.id, SharedPlaylist.locked_at.is_(None))
            .values(locked_at=now)
        ).rowcount == 1
    db.session.commit()
    if newly_locked and notify_owner is not None:
        notify_owner(share)
    raise AccessDenied(WRONG_CODE, 403, attempts_left=max(0, failure_cap - failed))


def _bind_device(grant, hashed, now):
    """Bind the grant to the first device in one conditional UPDATE, so two phones can't both win."""
    bound = db.session.execute(
        update(AccessGrant)
        .where(AccessGrant.id == grant.id,
               or_(AccessGrant.device_hash.is_(None), AccessGrant.device_hash == hashed))
        .values(device_hash=hashed, is_used=True, last_accessed_at=now,
                first_accessed_at=func.coalesce(AccessGrant.first_accessed_at, now),
                access_count=AccessGrant.access_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if bound != 1:
        raise AccessDenied(OTHER_DEVICE, 409, other_device=True, grant_id=grant.id)
    db.session.refresh(grant)


def viewer_grant(token, grant_id, device_id, now, profile_id=None):
    """Re-check a viewer session on every request: the grant, or AccessDenied with SPEC §6 wording.

    A grant claimed by the signed-in profile passes without the device check.
    """
    share = share_for_page(token, now)
    grant = db.session.get(AccessGrant, grant_id) if grant_id else None
    if grant is None or grant.shared_playlist_id != share.id:
        raise AccessDenied(NOT_VALID, 404)
    _check_grant(grant, now)
    if profile_id is not None and grant.claimed_by == profile_id:
        return grant
    if not device_id or grant.device_hash != device_hash(device_id):
        raise AccessDenied(OTHER_DEVICE, 409, other_device=True, grant_id=grant.id)
    return grant


def grant_for_profile(token, profile, keys, now):
    """A live grant of this share sent to the profile's verified phone and not claimed by another."""
    if not isinstance(profile, Profile) or not profile.phone_verified:
        return None
    return db.session.scalar(
        select(AccessGrant)
        .join(SharedPlaylist, SharedPlaylist.id == AccessGrant.shared_playlist_id)
        .where(
            SharedPlaylist.share_token == token,
            AccessGrant.phone_blind_index == blind_index(profile.phone_number, keys.phone_hmac),
            or_(AccessGrant.claimed_by.is_(None), AccessGrant.claimed_by == profile.id),
            live_grant(now),
        )
    )


TOUCH_EVERY = timedelta(minutes=1)


def touch(grant, now):
    """Note a visit of the player page for the owner's "last access" (at most one write a minute)."""
    if grant.last_accessed_at is None or now - grant.last_accessed_at >= TOUCH_EVERY:
        grant.last_accessed_at = now
        db.session.commit()


def _latest_in_playlist(playlist_id):
    """SELECT of the latest version of each song in the playlist (recipients hear only those), joined to its item."""
    latest, is_latest_of_item = latest_for(Track)
    statement = (select(latest).select_from(PlaylistTrack)
                 .join(Track, Track.id == PlaylistTrack.track_id).join(latest, is_latest_of_item)
                 .where(PlaylistTrack.playlist_id == playlist_id))
    return statement, latest


def shared_track(grant, track_id):
    """The track if it is the latest version of a song in the playlist of the grant's share, else None."""
    playlist_id = select(SharedPlaylist.playlist_id).where(
        SharedPlaylist.id == grant.shared_playlist_id).scalar_subquery()
    statement, latest = _latest_in_playlist(playlist_id)
    return db.session.scalar(statement.where(latest.id == track_id).limit(1))


def shared_tracks(share):
    """The shared playlist's songs (latest versions) in playlist order, in one query."""
    statement, _ = _latest_in_playlist(share.playlist_id)
    return db.session.scalars(statement.order_by(PlaylistTrack.position)).all()


def share_summary(share):
    """(sharer's name, playlist title, track count) for the recipient pages, in one query."""
    track_count = select(func.count(PlaylistTrack.id)).where(
        PlaylistTrack.playlist_id == share.playlist_id).scalar_subquery()
    return tuple(db.session.execute(
        select(Profile.name, Playlist.title, track_count)
        .join(Playlist, Playlist.id == share.playlist_id)
        .where(Profile.id == share.shared_by)
    ).one())


def expiry_text(share, grant, now):
    """"Expires in 5 days" for the earlier of the share's and the grant's end, or "Never expires"."""
    ends = [moment for moment in (share.expires_at, grant.expires_at) if moment is not None]
    if not ends:
        return "Never expires"
    seconds = (min(ends) - now).total_seconds()
    if seconds < 3600:
        return "Expires in less than an hour"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"Expires in {hours} hour{'s' if hours != 1 else ''}"
    days = int(seconds // 86400)
    return f"Expires in {days} day{'s' if days != 1 else ''}"


def recipient_phone(grant, keys):
    """The grant's phone in E.164, to prefill sign-up; None if it can't be decrypted."""
    try:
        return decrypt_phone(grant.phone_encrypted, keys.phone_encryption)
    except PhoneDecryptError:
        return None


def record_progress(grant, track_id, position_seconds):
    """Keep how far the grant got in a track; position 0 starts a new play. False if refused."""
    try:
        position = float(position_seconds)
    except (TypeError, ValueError):
        return False
    if not math.isfinite(position) or position < 0 or position > 24 * 3600:
        return False
    if shared_track(grant, track_id) is None:
        return False
    new_play = 1 if position == 0 else 0
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[db.engine.dialect.name]
    insert = dialect.insert(GrantListen).values(
        grant_id=grant.id, track_id=track_id, max_position_seconds=position, plays=new_play,
    )
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["grant_id", "track_id"],
        set_={
            "max_position_seconds": func.max(GrantListen.max_position_seconds, position)
            if dialect is sqlite else func.greatest(GrantListen.max_position_seconds, position),
            "plays": GrantListen.plays + new_play,
            "updated_at": utcnow(),
        },
    ))
    if new_play:
        db.session.execute(
            update(SharedPlaylist).where(SharedPlaylist.id == grant.shared_playlist_id)
            .values(total_plays=SharedPlaylist.total_plays + 1)
        )
    db.session.commit()
    return True
