"""Playlists of one workspace: create, edit, fill, order, and the figures shown with them.

Every function takes a Workspace from services.workspaces, so a track or playlist
outside it is NotFound exactly like an id that does not exist.
"""
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from coretet.extensions import db
from coretet.models import Playlist, PlaylistFollower, PlaylistTrack, Track, utcnow
from coretet.services import workspaces
from coretet.services.storage import format_duration
from coretet.services.versions import is_latest, latest_for

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
CANDIDATE_LIMIT = 20


class PlaylistError(ValueError):
    """The request cannot be applied as sent; the message tells the user what to do."""


@dataclass(frozen=True)
class Summary:
    """How many tracks a playlist holds and how long they play together."""

    count: int
    seconds: float

    @property
    def label(self):
        return summary_label(self.count, self.seconds)


def summary_label(count, seconds):
    """Count and length as shown on the playlist page and in lists: "5 tracks · 12:34"."""
    return f"{count} track{'' if count == 1 else 's'} · {format_duration(seconds)}"


def _clean_title(title):
    title = " ".join((title or "").split())
    if not title:
        raise PlaylistError("Give the playlist a title.")
    if len(title) > TITLE_MAX:
        raise PlaylistError(f"Titles can be up to {TITLE_MAX} characters.")
    return title


def _clean_description(description):
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise PlaylistError(f"Descriptions can be up to {DESCRIPTION_MAX} characters.")
    return description


def create(workspace, title, description=""):
    """A new, empty playlist in the workspace; read-only bands refuse (Forbidden)."""
    workspace.require_writable("create playlists")
    playlist = Playlist(
        title=_clean_title(title), description=_clean_description(description),
        created_by=workspace.profile.id, band_id=None if workspace.is_personal else workspace.band.id,
    )
    db.session.add(playlist)
    db.session.commit()
    return playlist


def _check_owner(workspace, playlist):
    """Guard against a playlist that was not looked up through this workspace."""
    band_id = None if workspace.is_personal else workspace.band.id
    if playlist.band_id != band_id or (band_id is None and playlist.created_by != workspace.profile.id):
        raise workspaces.NotFound()


def update_details(workspace, playlist, title, description):
    """Rename and describe a playlist of this workspace."""
    _check_owner(workspace, playlist)
    playlist.title = _clean_title(title)
    playlist.description = _clean_description(description)
    db.session.commit()
    return playlist


def delete_playlist(workspace, playlist):
    """Delete the playlist; its tracks stay in the workspace."""
    _check_owner(workspace, playlist)
    # Explicit deletes because SQLite (development) runs without foreign-key cascades.
    db.session.execute(delete(PlaylistTrack).where(PlaylistTrack.playlist_id == playlist.id))
    db.session.execute(delete(PlaylistFollower).where(PlaylistFollower.playlist_id == playlist.id))
    db.session.execute(delete(Playlist).where(Playlist.id == playlist.id))
    db.session.commit()


def _lock(workspace, playlist):
    """Serialise changes to one playlist's order (a no-op on SQLite, which has one writer)."""
    _check_owner(workspace, playlist)
    db.session.execute(select(Playlist.id).where(Playlist.id == playlist.id).with_for_update())


def _touch(playlist):
    playlist.updated_at = utcnow()


def add_tracks(workspace, playlist, track_ids):
    """Append workspace tracks in the order given, skipping songs already in (through any of their
    versions); any foreign id is NotFound."""
    wanted = list(dict.fromkeys(workspaces.parse_id(value) for value in track_ids))
    songs = {track.id: track.lineage_id for track in workspaces.get_tracks(workspace, wanted)}
    _lock(workspace, playlist)
    present = dict(db.session.execute(
        select(Track.lineage_id, PlaylistTrack.position).join(Track, Track.id == PlaylistTrack.track_id)
        .where(PlaylistTrack.playlist_id == playlist.id)
    ).all())
    position = max(present.values(), default=-1) + 1
    added = []
    for track_id in wanted:
        if songs[track_id] in present:
            continue
        db.session.add(PlaylistTrack(playlist_id=playlist.id, track_id=track_id, position=position,
                                     added_by=workspace.profile.id))
        present[songs[track_id]] = position
        added.append(track_id)
        position += 1
    if added:
        _touch(playlist)
    db.session.commit()
    return added


def remove_track(workspace, playlist, track_id):
    """Take one track out of the playlist and close the gap it leaves."""
    track_id = workspaces.parse_id(track_id)
    _lock(workspace, playlist)
    item = db.session.scalar(select(PlaylistTrack).where(
        PlaylistTrack.playlist_id == playlist.id, PlaylistTrack.track_id == track_id))
    if item is None:
        raise workspaces.NotFound()
    gap = item.position
    db.session.delete(item)
    db.session.flush()
    db.session.execute(
        update(PlaylistTrack)
        .where(PlaylistTrack.playlist_id == playlist.id, PlaylistTrack.position > gap)
        .values(position=PlaylistTrack.position - 1)
    )
    _touch(playlist)
    db.session.commit()


def reorder(workspace, playlist, ordered_ids):
    """Put the playlist in this order; the ids must be exactly its current tracks, each once."""
    ordered = [workspaces.parse_id(value) for value in ordered_ids]
    _lock(workspace, playlist)
    items = {item.track_id: item for item in db.session.scalars(
        select(PlaylistTrack).where(PlaylistTrack.playlist_id == playlist.id))}
    strangers = set(ordered) - set(items)
    if strangers:
        # Ids foreign to the workspace are hidden like any unknown id; known ones mean a stale page.
        workspaces.get_tracks(workspace, strangers)
    if strangers or len(ordered) != len(set(ordered)) or set(ordered) != set(items):
        db.session.rollback()
        raise PlaylistError("This playlist changed since the page was loaded, so the new order "
                            "was not saved. The list now shows the current order.")
    for position, track_id in enumerate(ordered):
        if items[track_id].position != position:
            items[track_id].position = position
    _touch(playlist)
    db.session.commit()


def summary(playlist):
    """Track count and total playing time (of the latest versions), in one query."""
    latest, is_latest_of_item = latest_for(Track)
    count, seconds = db.session.execute(
        select(func.count(PlaylistTrack.id), func.coalesce(func.sum(latest.duration_seconds), 0))
        .select_from(PlaylistTrack)
        .join(Track, Track.id == PlaylistTrack.track_id)
        .join(latest, is_latest_of_item)
        .where(PlaylistTrack.playlist_id == playlist.id)
    ).one()
    return Summary(count, float(seconds))


def listing(workspace):
    """(Playlist, track count, seconds of the latest versions) for every playlist of the workspace, in one query."""
    latest, is_latest_of_item = latest_for(Track)
    rows = db.session.execute(
        workspace.playlists_query()
        .add_columns(func.count(latest.id), func.coalesce(func.sum(latest.duration_seconds), 0))
        .outerjoin(PlaylistTrack, PlaylistTrack.playlist_id == Playlist.id)
        .outerjoin(Track, Track.id == PlaylistTrack.track_id)
        .outerjoin(latest, is_latest_of_item)
        .group_by(Playlist.id)
        .order_by(Playlist.updated_at.desc(), Playlist.id)
    ).all()
    return [(playlist, count, float(seconds)) for playlist, count, seconds in rows]


def candidates(workspace, playlist, query=""):
    """Up to 20 songs (latest versions) of the workspace not in the playlist, whose title contains the query."""
    _check_owner(workspace, playlist)
    item_track = aliased(Track)
    statement = workspace.tracks_query().where(is_latest(Track), Track.lineage_id.not_in(
        select(item_track.lineage_id).join(PlaylistTrack, PlaylistTrack.track_id == item_track.id)
        .where(PlaylistTrack.playlist_id == playlist.id)))
    words = " ".join((query or "").split())[:TITLE_MAX]
    if words:
        pattern = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Track.title.ilike(f"%{pattern}%", escape="\\"))
    return db.session.scalars(
        statement.order_by(func.lower(Track.title), Track.id).limit(CANDIDATE_LIMIT)
    ).all()


def tracks(playlist):
    """The playlist's tracks in order, with their places, in one query."""
    return workspaces.playlist_tracks(playlist)
