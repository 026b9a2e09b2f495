"""Account linking (SPEC §2): playlists texted to a phone follow its owner once the phone is verified."""
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from coretet.extensions import db
from coretet.models import AccessGrant, Playlist, PlaylistFollower, Profile, SharedPlaylist, utcnow

SHARED_WITH_ME_SOURCES = ("sms_share", "manual")


def live_grant(now):
    """SQL condition: the grant and its share still give access at `now` (needs both joined)."""
    return and_(
        AccessGrant.is_revoked.is_(False),
        or_(AccessGrant.expires_at.is_(None), AccessGrant.expires_at > now),
        SharedPlaylist.is_active.is_(True),
        or_(SharedPlaylist.expires_at.is_(None), SharedPlaylist.expires_at > now),
    )


def claim_grants_for(profile, keys, now=None):
    """Claim every live, unclaimed grant sent to the profile's verified phone; returns those claimed.

    Each claimed grant records claimed_by/claimed_at and makes the profile follow the
    playlist (source 'sms_share') unless it already does. A grant claimed by another
    account stays with it: a recycled number must not inherit its previous owner's shares.
    The caller commits. Grants and the profile are matched on their stored blind indexes
    (both made with keys.phone_hmac), so no number is decrypted here; `keys` stays in the
    signature for the callers that pass it.
    """
    if not profile.phone_verified:
        return []
    now = now or utcnow()
    grants = db.session.execute(
        select(AccessGrant, SharedPlaylist.playlist_id)
        .join(SharedPlaylist, SharedPlaylist.id == AccessGrant.shared_playlist_id)
        .where(
            AccessGrant.phone_blind_index == profile.phone_blind_index,
            AccessGrant.claimed_by.is_(None),
            SharedPlaylist.shared_by != profile.id,
            live_grant(now),
        )
        .order_by(AccessGrant.created_at)
        # Two sign-ins at once: the second waits here and then finds the grants claimed.
        .with_for_update(of=AccessGrant)
    ).all()
    if not grants:
        return []

    followed = set(db.session.scalars(
        select(PlaylistFollower.playlist_id).where(PlaylistFollower.profile_id == profile.id)
    ))
    claimed = []
    for grant, playlist_id in grants:
        grant.claimed_by, grant.claimed_at = profile.id, now
        if playlist_id not in followed:
            db.session.add(PlaylistFollower(
                playlist_id=playlist_id, profile_id=profile.id, source="sms_share", grant_id=grant.id,
            ))
            followed.add(playlist_id)
        claimed.append(grant)
    db.session.flush()
    return claimed


def shared_with_me(profile, now=None):
    """(playlist, follower row, sharer's name) for the "Shared with me" list, newest first.

    A follower that came through a grant is listed only while that grant and its
    share are live, so revoking or letting a share expire takes it off the list.
    An 'sms_share' follower whose grant is gone is dropped too; a 'manual' one
    without a grant stays and names the playlist's creator.
    """
    now = now or utcnow()
    sharer = aliased(Profile)
    rows = db.session.execute(
        select(Playlist, PlaylistFollower, sharer.name)
        .join(Playlist, Playlist.id == PlaylistFollower.playlist_id)
        .outerjoin(AccessGrant, AccessGrant.id == PlaylistFollower.grant_id)
        .outerjoin(SharedPlaylist, SharedPlaylist.id == AccessGrant.shared_playlist_id)
        .join(sharer, sharer.id == func.coalesce(SharedPlaylist.shared_by, Playlist.created_by))
        .where(
            PlaylistFollower.profile_id == profile.id,
            PlaylistFollower.source.in_(SHARED_WITH_ME_SOURCES),
            or_(
                and_(PlaylistFollower.grant_id.is_(None), PlaylistFollower.source == "manual"),
                and_(AccessGrant.id.is_not(None), live_grant(now)),
            ),
        )
        .order_by(PlaylistFollower.created_at.desc(), PlaylistFollower.id)
    ).all()
    return [tuple(row) for row in rows]
