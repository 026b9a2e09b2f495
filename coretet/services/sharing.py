"""SMS sharing of a playlist: creating a share, and the owner's revoke, resend, extend, end and unlock.

Every change here commits; the texts are sent by the worker after the commit.
"""
import uuid
from collections import namedtuple
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select, update

from coretet.extensions import db
from coretet.models import AccessGrant, GrantListen, Playlist, PlaylistTrack, SharedPlaylist, SmsMessage, utcnow
from coretet.services import codes, sms_credits, tiers
from coretet.services.messaging import queue_sms
from coretet.services.phone import blind_index, decrypt_phone, encrypt_phone, mask
from coretet.services.sms_text import new_code_text, share_text
from coretet.services.workspaces import Forbidden, NotFound, parse_id

LABEL_MAX = 80

# The owner's manage view: each share with its recipients, each with the latest SMS status.
ShareView = namedtuple("ShareView", "share recipients")
RecipientView = namedtuple(
    "RecipientView", "grant masked_phone sms_status sms_error tracks_started track_count")


class ShareError(Forbidden):
    """A refusal; `decision` is the tier Decision when a plan limit was hit (for the upgrade modal)."""

    def __init__(self, message, decision=None):
        super().__init__(message)
        self.decision = decision


@dataclass(frozen=True)
class ShareResult:
    share: SharedPlaylist
    grants: list
    messages: list


HOUR, DAY = 3600, 86400


def expires_phrase(when, now=None):
    """An expiry as people say it, to the nearest day (or hour on the last day).

    "expires in 7 days" (a 7-day share just sent, not "6 days"), "expires tomorrow" (24 to 36
    hours left), "expires in 3 hours", "expires in under an hour", "expired", "never expires".
    The sent dialog, the owner's manage view and the recipient's player all use this.
    """
    if when is None:
        return "never expires"
    seconds = (when - (now or utcnow())).total_seconds()
    if seconds <= 0:
        return "expired"
    if seconds < HOUR:
        return "expires in under an hour"
    if seconds < DAY:
        hours = min(23, int(seconds / HOUR + 0.5))
        return f"expires in {hours} hour{'s' if hours != 1 else ''}"
    days = int(seconds / DAY + 0.5)
    return "expires tomorrow" if days == 1 else f"expires in {days} days"


def _require(decision):
    if not decision.allowed:
        raise ShareError(decision.reason, decision)


def _clean_label(label):
    cleaned = " ".join((label or "").split())[:LABEL_MAX]
    return cleaned or None


def _dedupe(recipients):
    """(e164, label) pairs with each number once, keeping the first label given for it."""
    labels = {}
    for e164, label in recipients:
        if not labels.get(e164):
            labels[e164] = _clean_label(label)
    return list(labels.items())


def active_share_count(profile, now=None):
    """Shares of this sharer that are live: active and not yet expired."""
    return _active_count(profile.id, now or utcnow())


def _active_count(profile_id, now):
    return db.session.scalar(select(func.count(SharedPlaylist.id)).where(
        SharedPlaylist.shared_by == profile_id, SharedPlaylist.is_active.is_(True),
        or_(SharedPlaylist.expires_at.is_(None), SharedPlaylist.expires_at > now)))


def _track_count(playlist_id):
    return db.session.scalar(
        select(func.count(PlaylistTrack.id)).where(PlaylistTrack.playlist_id == playlist_id))


def _new_code(grant, keys):
    """A fresh code for the grant; only its keyed hash is kept."""
    code = codes.generate_code()
    grant.code_hash = codes.hash_code(code, keys.code_hmac, context=grant.id)
    return code


def create_share(workspace, playlist, sharer, recipients, expiry_days, keys, listen_url_for, now=None):
    """Share a playlist with (e164, label) recipients: one grant, one credit and one SMS each."""
    now = now or utcnow()
    recipients = _dedupe(recipients)
    if not recipients:
        raise ShareError("Add at least one phone number to share with.")
    if workspace.read_only:
        raise ShareError("This band is read-only, so its playlists can't be shared. "
                         "Its owner can renew the Band plan to unlock it.")
    try:
        # Locked first, so the active-share count and the credits can't change under us.
        sharer = sms_credits.lock_profile(sharer.id)
        _require(tiers.can_add_recipients(sharer.tier, len(recipients)))
        _require(tiers.expiry_allowed(sharer.tier, expiry_days))
        _require(tiers.can_add_active_share(sharer.tier, active_share_count(sharer, now)))
        credits = sms_credits.debit(sharer, len(recipients), today=now.date())
        expires_at = None if expiry_days is None else now + timedelta(days=expiry_days)
        share = SharedPlaylist(playlist_id=playlist.id, shared_by=sharer.id, share_token=codes.generate_token(),
                               expires_at=expires_at, total_access_grants=len(recipients))
        db.session.add(share)
        db.session.flush()
        grants, plain_codes = [], []
        for e164, label in recipients:
            grant = AccessGrant(
                id=uuid.uuid4(), shared_playlist_id=share.id, recipient_label=label,
                phone_blind_index=blind_index(e164, keys.phone_hmac),
                phone_encrypted=encrypt_phone(e164, keys.phone_encryption),
                expires_at=expires_at, code_expires_at=expires_at,
            )
            plain_codes.append(_new_code(grant, keys))
            grants.append(grant)
        db.session.add_all(grants)
        db.session.flush()
        tracks, link = _track_count(playlist.id), listen_url_for(share.share_token)
        messages = [
            queue_sms(keys, e164, share_text(sharer.name, playlist.title, tracks, code, link, expires_at),
                      purpose="share_code", profile_id=sharer.id, grant_id=grant.id, credit=credit)
            for (e164, _), grant, code, credit in zip(recipients, grants, plain_codes, credits)
        ]
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return ShareResult(share, grants, messages)


def get_share(playlist, share_id):
    """A share of this playlist (already resolved through the user's workspace), or NotFound."""
    share = db.session.scalar(select(SharedPlaylist).where(
        SharedPlaylist.id == parse_id(share_id), SharedPlaylist.playlist_id == playlist.id))
    if share is None:
        raise NotFound()
    return share


def _grant(share, grant_id):
    grant = db.session.scalar(select(AccessGrant).where(
        AccessGrant.id == parse_id(grant_id), AccessGrant.shared_playlist_id == share.id))
    if grant is None:
        raise NotFound()
    return grant


def _require_live(share, now):
    if not share.is_active:
        raise ShareError("This share has ended. Start a new share to send new codes.")
    if share.expires_at is not None and share.expires_at <= now:
        raise ShareError("This share has expired. Extend it first.")


def revoke_grant(share, grant_id, now=None):
    """Withdraw one recipient's access; it takes effect on their very next request."""
    grant = _grant(share, grant_id)
    if not grant.is_revoked:
        grant.is_revoked, grant.revoked_at = True, now or utcnow()
    db.session.commit()
    return grant


def resend_code(share, grant_id, keys, listen_url_for, now=None):
    """Text the recipient a new code (one credit from the sharer); the old code and device stop working."""
    now = now or utcnow()
    grant = _grant(share, grant_id)
    if grant.is_revoked:
        raise ShareError("Access for this recipient was withdrawn, so no new code can be sent.")
    _require_live(share, now)
    try:
        sharer = sms_credits.lock_profile(share.shared_by)
        credit = sms_credits.debit(sharer, 1, today=now.date())[0]
        code = _new_code(grant, keys)
        grant.device_hash, grant.code_expires_at = None, share.expires_at
        title = db.session.scalar(select(Playlist.title).where(Playlist.id == share.playlist_id))
        message = queue_sms(
            keys, decrypt_phone(grant.phone_encrypted, keys.phone_encryption),
            new_code_text(title, code, listen_url_for(share.share_token)),
            purpose="resend_code", profile_id=sharer.id, grant_id=grant.id, credit=credit,
        )
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return message


def extend(share, days, tier, now=None):
    """Set the share (and its codes) to end `days` from now, or never; within the tier's limit."""
    now = now or utcnow()
    _require(tiers.expiry_allowed(tier, days))
    if not share.is_active:
        raise ShareError("This share has ended. Start a new share instead.")
    try:
        if share.expires_at is not None and share.expires_at <= now:
            # An expired share comes back to life, so it counts against the active limit again.
            sms_credits.lock_profile(share.shared_by)
            _require(tiers.can_add_active_share(tier, _active_count(share.shared_by, now)))
        expires_at = None if days is None else now + timedelta(days=days)
        share.expires_at = expires_at
        db.session.execute(update(AccessGrant).where(AccessGrant.shared_playlist_id == share.id)
                           .values(expires_at=expires_at, code_expires_at=expires_at))
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return share


def end_share(share, now=None):
    """End all access to the share at once."""
    if share.is_active:
        share.is_active, share.ended_at = False, now or utcnow()
    db.session.commit()
    return share


def unlock(share):
    """Lift the lock set after too many wrong codes."""
    share.locked_at, share.failed_attempts = None, 0
    db.session.commit()
    return share


def shares_for_playlist(playlist, keys=None):
    """ShareViews of a playlist, newest first, in five queries; with keys, phones are shown masked."""
    shares = db.session.scalars(select(SharedPlaylist).where(SharedPlaylist.playlist_id == playlist.id)
                                .order_by(SharedPlaylist.created_at.desc(), SharedPlaylist.id)).all()
    if not shares:
        return []
    share_ids = select(SharedPlaylist.id).where(SharedPlaylist.playlist_id == playlist.id)
    grants = db.session.scalars(select(AccessGrant).where(AccessGrant.shared_playlist_id.in_(share_ids))
                                .order_by(AccessGrant.created_at, AccessGrant.id)).all()
    ranked = select(SmsMessage.grant_id, SmsMessage.status, SmsMessage.error_message, func.row_number().over(
        partition_by=SmsMessage.grant_id, order_by=(SmsMessage.created_at.desc(), SmsMessage.id.desc()),
    ).label("rank")).where(SmsMessage.grant_id.in_(
        select(AccessGrant.id).where(AccessGrant.shared_playlist_id.in_(share_ids)))).subquery()
    statuses = {grant_id: (status, error) for grant_id, status, error in db.session.execute(
        select(ranked.c.grant_id, ranked.c.status, ranked.c.error_message).where(ranked.c.rank == 1))}
    started = dict(db.session.execute(
        select(GrantListen.grant_id, func.count(GrantListen.id))
        .where(GrantListen.grant_id.in_(select(AccessGrant.id).where(AccessGrant.shared_playlist_id.in_(share_ids))))
        .group_by(GrantListen.grant_id)).all())
    track_count = db.session.scalar(
        select(func.count(PlaylistTrack.id)).where(PlaylistTrack.playlist_id == playlist.id))
    by_share = {share.id: [] for share in shares}
    for grant in grants:
        masked = mask(decrypt_phone(grant.phone_encrypted, keys.phone_encryption)) if keys else None
        status, error = statuses.get(grant.id, (None, None))
        by_share[grant.shared_playlist_id].append(RecipientView(
            grant, masked, status, error, started.get(grant.id, 0), track_count))
    return [ShareView(share, by_share[share.id]) for share in shares]
