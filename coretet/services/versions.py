"""Versions of a song: every version is its own track row sharing lineage_id; the highest number is the latest.

A lineage never counts across workspaces: each query here only pairs versions of the
same workspace (same band, or the same person's personal space), so a version moved
elsewhere can never be reached from a playlist or page of the old workspace.
"""
import math
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from coretet.extensions import db
from coretet.models import PlaylistTrack, Profile, Track
from coretet.services import workspaces

NOTES_MAX = 2000


class VersionError(ValueError):
    """A version request that can't be applied as sent; the message says why."""


def same_song(one, other):
    """SQL: `other` is a version of `one`'s song in `one`'s workspace (`one` a loaded row or a table alias)."""
    if isinstance(one, Track):
        if one.band_id is None:
            return and_(other.lineage_id == one.lineage_id, other.band_id.is_(None),
                        other.created_by == one.created_by)
        return and_(other.lineage_id == one.lineage_id, other.band_id == one.band_id)
    return and_(
        other.lineage_id == one.lineage_id,
        other.band_id.is_not_distinct_from(one.band_id),
        or_(one.band_id.is_not(None), other.created_by == one.created_by),
    )


def is_latest(track=Track):
    """SQL: no newer version of this track's song exists in its workspace."""
    newer = aliased(Track)
    return ~exists().where(same_song(track, newer), newer.version_number > track.version_number)


SONG_ORDER = {"newest": Track.created_at.desc(), "largest": Track.file_size.desc(), "title": Track.title}


def latest_tracks(workspace, sort="newest"):
    """The workspace's songs, one row each at its latest version, in one query (unknown sorts read as newest).

    "largest" ranks songs by their latest version's size, the size the row shows; older
    versions still use storage and are listed, with a delete button each, on the song's page.
    """
    order = SONG_ORDER.get(sort, SONG_ORDER["newest"])
    return db.session.scalars(workspace.tracks_query().where(is_latest(Track)).order_by(order, Track.id)).all()


def latest_for(item_track):
    """An alias for the latest version of `item_track`'s song and the join condition that finds it."""
    latest = aliased(Track)
    return latest, and_(same_song(item_track, latest), is_latest(latest))


@dataclass(frozen=True)
class Version:
    """One entry of a song's chain as the track page shows it."""

    track: Track
    uploader: str
    is_latest: bool


def chain(workspace, track):
    """Every version of the track's song in this workspace, v1 first, with uploader names, in one query."""
    rows = db.session.execute(
        workspace.tracks_query().add_columns(Profile.name)
        .join(Profile, Profile.id == Track.created_by)
        .where(Track.lineage_id == track.lineage_id)
        .order_by(Track.version_number)
    ).all()
    last = rows[-1][0].id if rows else None
    return [Version(row, name, row.id == last) for row, name in rows]


def default_pair(versions, track):
    """(A, B) to compare from this track's page: the version before it and it, or for v1 the first and the
    latest; (track, None) when the song has one version. `versions` is chain()'s list."""
    tracks = [version.track for version in versions]
    if len(tracks) < 2:
        return track, None
    index = tracks.index(track)
    return (tracks[index - 1], track) if index > 0 else (tracks[0], tracks[-1])


def pair(workspace, track, a_id, b_id):
    """Two versions of the track's song in this workspace for A/B compare; NotFound for anything else.

    A missing id is filled in with the latest other version (both missing: default_pair).
    """
    versions = chain(workspace, track)
    if not a_id and not b_id:
        return default_pair(versions, track)
    by_id = {version.track.id: version.track for version in versions}
    a = by_id.get(workspaces.parse_id(a_id)) if a_id else None
    b = by_id.get(workspaces.parse_id(b_id)) if b_id else None
    if (a_id and a is None) or (b_id and b is None):
        raise workspaces.NotFound()
    others = [version.track for version in versions if version.track not in (a, b)]
    return (a or (others[-1] if others else b)), (b or (others[-1] if others else a))


def next_number(lineage_id):
    """The next version number of a song. On PostgreSQL the song's rows are locked first, so two
    uploads of a new version queue here and each reads the other's number once it commits."""
    song = select(Track.id).where(Track.lineage_id == lineage_id).with_for_update()
    db.session.execute(song).all()
    return (db.session.scalar(
        select(func.max(Track.version_number)).where(Track.lineage_id == lineage_id)) or 0) + 1


def clean_notes(notes):
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise VersionError(f"Notes can be up to {NOTES_MAX} characters.")
    return notes


def latest(workspace, track):
    """The latest version of the track's song in this workspace (the track itself if it is)."""
    return db.session.scalar(
        workspace.tracks_query().where(Track.lineage_id == track.lineage_id)
        .order_by(Track.version_number.desc()).limit(1)
    )


def hand_over_playlist_places(track):
    """Before a version is deleted: its playlist places go to the song's next-latest version.

    Playlists hold a song through whichever version was added; deleting that version
    must not take the song out of them. Flushes; the caller commits.
    """
    successor = db.session.scalar(
        select(Track).where(same_song(track, Track), Track.id != track.id)
        .order_by(Track.version_number.desc()).limit(1)
    )
    if successor is None:
        return None
    holding = select(PlaylistTrack.playlist_id).where(PlaylistTrack.track_id == successor.id)
    db.session.execute(delete(PlaylistTrack).where(PlaylistTrack.track_id == track.id,
                                                  PlaylistTrack.playlist_id.in_(holding)))
    db.session.execute(update(PlaylistTrack).where(PlaylistTrack.track_id == track.id)
                       .values(track_id=successor.id))
    return successor


def rename_song(track, title):
    """Give every version of the song (in its workspace) the track's title. Commits."""
    db.session.execute(update(Track).where(same_song(track, Track), Track.id != track.id)
                       .values(title=title).execution_options(synchronize_session=False))
    db.session.commit()


def has_other_versions(track):
    return db.session.scalar(select(exists().where(same_song(track, Track), Track.id != track.id)))


@dataclass(frozen=True)
class Match:
    """Loudness matching for A/B: gains (never above 1) and the sentence that explains them."""

    gain_a: float
    gain_b: float
    text: str


def loudness_match(lufs_a, lufs_b):
    """Turn the louder version down to the quieter one's loudness; nothing is ever boosted."""
    if lufs_a is None or lufs_b is None:
        return Match(1.0, 1.0, "Loudness is not known for both versions yet, so they play as recorded.")
    difference = lufs_b - lufs_a
    if abs(difference) < 0.05:
        return Match(1.0, 1.0, "A and B are equally loud.")
    target = min(lufs_a, lufs_b)
    gain_a, gain_b = (math.pow(10, (target - lufs) / 20) for lufs in (lufs_a, lufs_b))
    louder = "B" if difference > 0 else "A"
    return Match(round(gain_a, 4), round(gain_b, 4), f"{louder} is {abs(difference):.1f} LU louder; matched")
