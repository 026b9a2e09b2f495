"""Which objects a user may see: the one query layer every route goes through.

A workspace is "me" (the user's personal space) or a band the user belongs to.
Anything outside it, existing or not, is NotFound, so a stranger cannot tell a
band's real ids from made-up ones.
"""
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import Band, BandMember, Playlist, PlaylistTrack, Track

PERSONAL = "me"


class NotFound(Exception):
    """The object does not exist, or the user may not know that it does."""


class Forbidden(Exception):
    """The user can see the object but may not do this to it; the message says why."""


@dataclass(frozen=True)
class Workspace:
    """The user's view of one workspace: personal (band None) or a band with their role."""

    profile: object
    band: Band | None = None
    role: str | None = None

    @property
    def slug(self):
        return PERSONAL if self.band is None else str(self.band.id)

    @property
    def is_personal(self):
        return self.band is None

    @property
    def name(self):
        return "Personal" if self.band is None else self.band.name

    @property
    def can_manage(self):
        """Owners and admins manage members; in the personal space the user is the owner."""
        return self.band is None or self.role in ("owner", "admin")

    @property
    def read_only(self):
        return self.band is not None and self.band.read_only

    @property
    def feature_tier(self):
        """The tier whose collaboration features apply here: the user's own in the personal
        space; in a band, Band while the band is paid for (not read-only), else Free."""
        if self.band is None:
            return self.profile.tier
        return "free" if self.band.read_only else "band"

    @property
    def storage_owner(self):
        return self.profile if self.band is None else self.band

    def tracks_query(self):
        """Tracks in this workspace (personal tracks are the user's own)."""
        if self.band is None:
            return select(Track).where(Track.band_id.is_(None), Track.created_by == self.profile.id)
        return select(Track).where(Track.band_id == self.band.id)

    def playlists_query(self):
        if self.band is None:
            return select(Playlist).where(Playlist.band_id.is_(None), Playlist.created_by == self.profile.id)
        return select(Playlist).where(Playlist.band_id == self.band.id)

    def require_writable(self, action="change this band"):
        if self.read_only:
            raise Forbidden(f"This band is read-only, so you can't {action}. "
                            "Its owner can renew the Band plan to unlock it.")

    def require_manager(self):
        if not self.can_manage:
            raise Forbidden("Only the band's owner and admins can do that.")


def parse_id(value):
    """A UUID from a URL or form, or NotFound for anything else."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound() from None


def resolve(profile, slug):
    """The workspace named in the URL, if the user belongs to it."""
    if slug == PERSONAL:
        return Workspace(profile)
    band_id = parse_id(slug)
    row = db.session.execute(
        select(Band, BandMember.role)
        .join(BandMember, BandMember.band_id == Band.id)
        .where(Band.id == band_id, BandMember.profile_id == profile.id)
    ).first()
    if row is None:
        raise NotFound()
    return Workspace(profile, row[0], row[1])


def memberships(profile):
    """Every band the user belongs to, with their role, by name."""
    return db.session.execute(
        select(Band, BandMember.role)
        .join(BandMember, BandMember.band_id == Band.id)
        .where(BandMember.profile_id == profile.id)
        .order_by(func.lower(Band.name))
    ).all()


def stored_track_count(workspace):
    """How many track files the workspace stores, every version counted (each uses storage)."""
    return db.session.scalar(select(func.count()).select_from(workspace.tracks_query().subquery()))


def get_track(workspace, track_id):
    track = db.session.scalar(workspace.tracks_query().where(Track.id == parse_id(track_id)))
    if track is None:
        raise NotFound()
    return track


def get_tracks(workspace, track_ids):
    """Several tracks of this workspace; any id outside it makes the whole request NotFound."""
    ids = {parse_id(value) for value in track_ids}
    tracks = db.session.scalars(workspace.tracks_query().where(Track.id.in_(ids))).all() if ids else []
    if len(tracks) != len(ids):
        raise NotFound()
    return tracks


def get_playlist(workspace, playlist_id):
    playlist = db.session.scalar(workspace.playlists_query().where(Playlist.id == parse_id(playlist_id)))
    if playlist is None:
        raise NotFound()
    return playlist


def playlist_tracks(playlist):
    """(PlaylistTrack, Track) pairs in playlist order, in one query; the Track is the latest
    version of the song the item holds (playlists play the latest)."""
    from coretet.services.versions import latest_for

    latest, is_latest_of_item = latest_for(Track)
    return db.session.execute(
        select(PlaylistTrack, latest)
        .join(Track, Track.id == PlaylistTrack.track_id)
        .join(latest, is_latest_of_item)
        .where(PlaylistTrack.playlist_id == playlist.id)
        .order_by(PlaylistTrack.position)
    ).all()
