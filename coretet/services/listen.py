"""Recipient access to an SMS share: code check, viewer re-checks, device binding, listen progress.

A lock (too many wrong codes across all IPs) stops new code entries only. Recipients
who already entered their code on their own phone keep listening: the lock is there
against guessing, and they have proved they hold a real code.
"""
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
import hashlib
import math

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from coretet.extensions import db
from coretet.models import (
    AccessGrant, GrantListen, Playlist, PlaylistTrack, Profile, SharedPlaylist, Track, utcnow,
)
from coretet.services import codes
from coretet.services.linking import live_grant
from coretet.services.sharing import expires_phrase
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


@dataclass(frozen=True)
class Viewer:
    """A recipient allowed to listen right now: who they are, and what the page shows them."""

    grant_id: object
    share_id: object
    playlist_id: object
    expires_at: object  # the earlier of the share's and the grant's end; None = never
    last_accessed_at: object
    sharer: str = None
    title: str = None


@cache
def _access_statement(with_page):
    """One SELECT for the share of a token and, joined to it, the session's grant (NULLs when not
    that share's); with_page adds the sharer's name and the playlist title. Built once, run with
    fresh parameters each time: the rows are read on every request, only the SQL text is reused."""
    share, grant = SharedPlaylist.__table__, AccessGrant.__table__
    columns = [
        share.c.id, share.c.is_active, share.c.expires_at, share.c.playlist_id,
        grant.c.id.label("grant_id"), grant.c.is_revoked, grant.c.expires_at.label("grant_expires_at"),
        grant.c.device_hash, grant.c.claimed_by, grant.c.last_accessed_at,
    ]
    joined = share.outerjoin(grant, and_(grant.c.id == bindparam("grant_id"),
                                         grant.c.shared_playlist_id == share.c.id))
    if with_page:
        playlist, profile = Playlist.__table__, Profile.__table__
        columns += [profile.c.name.label("sharer"), playlist.c.title]
        joined = (joined.join(playlist, playlist.c.id == share.c.playlist_id)
                  .join(profile, profile.c.id == share.c.shared_by))
    return select(*columns).select_from(joined).where(share.c.share_token == bindparam("token"))


def viewer_grant(token, grant_id, device_id, now, profile_id=None, with_page=False):
    """Re-check a viewer session on every request, in one query: a Viewer, or AccessDenied with SPEC §6 wording.

    Nothing is cached: the share and grant rows are read again each time, so a revoke or an
    expiry refuses the very next request. A grant claimed by the signed-in profile passes
    without the device check.
    """
    if not isinstance(token, str) or len(token) > 64:
        raise AccessDenied(NOT_VALID, 404)
    # On the session's connection: plain rows, without the ORM's per-statement work.
    row = db.session.connection().execute(_access_statement(with_page),
                                          {"token": token, "grant_id": grant_id}).first()
    if row is None or not row.is_active:
        raise AccessDenied(NOT_VALID, 404)
    if _expired(row.expires_at, now):
        raise AccessDenied(SHARE_EXPIRED, 410)
    if grant_id is None or row.grant_id is None:
        raise AccessDenied(NOT_VALID, 404)
    if row.is_revoked:
        raise AccessDenied(REVOKED, 403)
    if _expired(row.grant_expires_at, now):
        raise AccessDenied(CODE_EXPIRED, 410)
    claimed = profile_id is not None and row.claimed_by == profile_id
    if not claimed and (not device_id or row.device_hash != device_hash(device_id)):
        raise AccessDenied(OTHER_DEVICE, 409, other_device=True, grant_id=row.grant_id)
    ends = [moment for moment in (row.expires_at, row.grant_expires_at) if moment is not None]
    return Viewer(row.grant_id, row.id, row.playlist_id, min(ends) if ends else None, row.last_accessed_at,
                  row.sharer if with_page else None, row.title if with_page else None)


def grant_for_profile(token, profile, keys, now):
    """A live grant of this share sent to the profile's verified phone and not claimed by another."""
    if not isinstance(profile, Profile) or not profile.phone_verified:
        return None
    return db.session.scalar(
        select(AccessGrant)
        .join(SharedPlaylist, SharedPlaylist.id == AccessGrant.shared_playlist_id)
        .where(
            SharedPlaylist.share_token == token,
            AccessGrant.phone_blind_index == profile.phone_blind_index,
            or_(AccessGrant.claimed_by.is_(None), AccessGrant.claimed_by == profile.id),
            live_grant(now),
        )
    )


TOUCH_EVERY = timedelta(minutes=1)


def touch(viewer, now):
    """Note a visit of the player page for the owner's "last access" (at most one write a minute)."""
    if viewer.last_accessed_at is None or now - viewer.last_accessed_at >= TOUCH_EVERY:
        db.session.execute(update(AccessGrant.__table__).where(AccessGrant.__table__.c.id == viewer.grant_id)
                           .values(last_accessed_at=now))
        db.session.commit()


def _latest_in_playlist(playlist_id):
    """SELECT of the latest version of each song in the playlist (recipients hear only those), joined to its item."""
    latest, is_latest_of_item = latest_for(Track)
    statement = (select(latest).select_from(PlaylistTrack)
                 .join(Track, Track.id == PlaylistTrack.track_id).join(latest, is_latest_of_item)
                 .where(PlaylistTrack.playlist_id == playlist_id))
    return statement, latest


@cache
def _shared_track_statement():
    """The track `track_id` if it is the latest version of a song in playlist `playlist_id` (built once)."""
    statement, latest = _latest_in_playlist(bindparam("playlist_id"))
    return statement.where(latest.id == bindparam("track_id")).limit(1)


@cache
def _track_list_statement():
    """(id, title, duration_seconds) of the playlist's songs at their latest version, in playlist order (built once)."""
    statement, latest = _latest_in_playlist(bindparam("playlist_id"))
    return (statement.with_only_columns(latest.id, latest.title, latest.duration_seconds)
            .order_by(PlaylistTrack.position))


def shared_track(viewer, track_id):
    """The track if it is the latest version of a song in the playlist of the viewer's share, else None."""
    return db.session.scalar(_shared_track_statement(),
                             {"playlist_id": viewer.playlist_id, "track_id": track_id})


def shared_tracks(playlist_id):
    """The shared playlist's songs (latest versions) in playlist order, in one query: rows of id, title, duration_seconds."""
    return db.session.connection().execute(_track_list_statement(), {"playlist_id": playlist_id}).all()


def share_summary(share):
    """(sharer's name, playlist title, track count) for the recipient pages, in one query."""
    track_count = select(func.count(PlaylistTrack.id)).where(
        PlaylistTrack.playlist_id == share.playlist_id).scalar_subquery()
    return tuple(db.session.execute(
        select(Profile.name, Playlist.title, track_count)
        .join(Playlist, Playlist.id == share.playlist_id)
        .where(Profile.id == share.shared_by)
    ).one())


def expiry_text(expires_at, now):
    """The player's expiry line, e.g. "Expires in 7 days", "Expires tomorrow", "Never expires"."""
    phrase = expires_phrase(expires_at, now)
    return phrase[0].upper() + phrase[1:]


def record_progress(viewer, track_id, position_seconds):
    """Keep how far the viewer's grant got in a track; position 0 starts a new play. False if refused."""
    try:
        position = float(position_seconds)
    except (TypeError, ValueError):
        return False
    if not math.isfinite(position) or position < 0 or position > 24 * 3600:
        return False
    if shared_track(viewer, track_id) is None:
        return False
    new_play = 1 if position == 0 else 0
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[db.engine.dialect.name]
    insert = dialect.insert(GrantListen).values(
        grant_id=viewer.grant_id, track_id=track_id, max_position_seconds=position, plays=new_play,
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
            update(SharedPlaylist).where(SharedPlaylist.id == viewer.share_id)
            .values(total_plays=SharedPlaylist.total_plays + 1)
        )
    db.session.commit()
    return True
