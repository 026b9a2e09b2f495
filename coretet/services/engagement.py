"""Listened / liked / loved per band member and track version (SPEC §9), and the figures shown with them.

The player reports progress in small beacons. Each beacon's played seconds are
credited only up to the wall-clock time since that member's previous beacon
(plus a little slack) and never more than one beacon's worth, so seeking past
the middle, or a client that claims more than it played, does not make a track
"listened". Only current members of the workspace count; nothing here is ever
shown to SMS recipients.
"""
import math
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from coretet.extensions import db
from coretet.models import BandMember, Playlist, PlaylistTrack, Profile, Track, TrackEngagement, utcnow
from coretet.models.collab import REACTIONS
from coretet.services.versions import latest_for

LISTENED_FRACTION = 0.5
# The player beacons every ~10 s of playback; a beacon is never credited more than this.
MAX_BEACON_SECONDS = 15.0
# Allowance for network and timer jitter on top of the wall-clock time between beacons.
SLACK_SECONDS = 2.0


class EngagementError(ValueError):
    """A beacon or reaction that cannot be applied as sent; the message says why."""


def _seconds(value, what):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EngagementError(f"{what} must be a number of seconds.") from None
    if not math.isfinite(number) or number < 0:
        raise EngagementError(f"{what} must be a number of seconds, 0 or more.")
    return number


def _locked_row(profile_id, track_id):
    """This member's engagement row for the track, created if missing, locked for this transaction.

    Concurrent first beacons both try the insert; the unique key keeps one row and
    ON CONFLICT DO NOTHING lets the loser carry on with the winner's row.
    """
    query = (select(TrackEngagement)
             .where(TrackEngagement.track_id == track_id, TrackEngagement.profile_id == profile_id)
             .with_for_update().execution_options(populate_existing=True))
    row = db.session.scalar(query)
    if row is not None:
        return row
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    db.session.execute(
        insert(TrackEngagement)
        .values(id=uuid.uuid4(), track_id=track_id, profile_id=profile_id, seconds_listened=0.0,
                created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["track_id", "profile_id"])
    )
    return db.session.scalars(query).one()


def credit_for(played, duration, last_beacon_at, now):
    """How many of the claimed played seconds one beacon may add."""
    credit = min(played, MAX_BEACON_SECONDS)
    if duration:
        credit = min(credit, duration)
    if last_beacon_at is not None:
        elapsed = max(0.0, (now - last_beacon_at).total_seconds())
        credit = min(credit, elapsed + SLACK_SECONDS)
    return credit


@dataclass(frozen=True)
class Progress:
    """A member's listening on a track after a beacon; newly_listened is True for the beacon that crossed half."""

    seconds_listened: float
    listened_at: object
    newly_listened: bool


def record_progress(profile, track, position, played_seconds, now=None):
    """Apply one player beacon for this member and track version; commits and returns its Progress."""
    position = _seconds(position, "The position")
    played = _seconds(played_seconds, "The time played")
    now = now or utcnow()
    duration = track.duration_seconds or 0.0
    try:
        row = _locked_row(profile.id, track.id)
        row.seconds_listened += credit_for(played, duration, row.last_beacon_at, now)
        row.last_position = min(position, duration) if duration else position
        row.last_beacon_at = now if row.last_beacon_at is None else max(now, row.last_beacon_at)
        newly = row.listened_at is None and bool(duration) and row.seconds_listened > LISTENED_FRACTION * duration
        if newly:
            row.listened_at = now
        progress = Progress(row.seconds_listened, row.listened_at, newly)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return progress


def set_reaction(profile, track, reaction):
    """Toggle liked/loved: the same reaction again removes it, the other one replaces it; None clears."""
    reaction = reaction or None
    if reaction is not None and reaction not in REACTIONS:
        raise EngagementError("A reaction is either liked or loved.")
    try:
        row = _locked_row(profile.id, track.id)
        row.reaction = None if reaction == row.reaction else reaction
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return row.reaction


@dataclass(frozen=True)
class TrackSummary:
    """One track version's engagement among the workspace's members, and the viewer's own."""

    members: int
    listened: int = 0
    liked: int = 0
    loved: int = 0
    me_listened: bool = False
    my_reaction: str | None = None
    personal: bool = False

    @property
    def label(self):
        """"3/5 listened · 2 liked · 1 loved"; in a personal space only the owner's own state."""
        if self.personal:
            parts = ["Listened"] if self.me_listened else []
            return " · ".join(parts + ([self.my_reaction.capitalize()] if self.my_reaction else []))
        parts = [f"{self.listened}/{self.members} listened"]
        if self.liked:
            parts.append(f"{self.liked} liked")
        if self.loved:
            parts.append(f"{self.loved} loved")
        return " · ".join(parts)


class Summaries(dict):
    """track id -> TrackSummary; tracks nobody engaged with read as zeros."""

    def __init__(self, members, rows=(), personal=False):
        super().__init__(rows)
        self.members, self.personal = members, personal

    def __missing__(self, track_id):
        return TrackSummary(self.members, personal=self.personal)


def member_ids(workspace):
    """The profiles whose engagement counts here: the band's current members, or the owner alone."""
    if workspace.is_personal:
        return [workspace.profile.id]
    return list(db.session.scalars(select(BandMember.profile_id).where(BandMember.band_id == workspace.band.id)))


def summaries(track_ids, members, viewer_id, personal=False):
    """Summaries for many tracks in one query; track_ids may be a list or a SELECT of ids."""
    members = list(members)
    if not members:
        return Summaries(0, personal=personal)
    mine = TrackEngagement.profile_id == viewer_id
    rows = db.session.execute(
        select(
            TrackEngagement.track_id,
            func.count(TrackEngagement.listened_at),
            func.sum(case((TrackEngagement.reaction == "liked", 1), else_=0)),
            func.sum(case((TrackEngagement.reaction == "loved", 1), else_=0)),
            func.max(case((and_(mine, TrackEngagement.listened_at.is_not(None)), 1), else_=0)),
            func.max(case((mine, TrackEngagement.reaction), else_=None)),
        )
        .where(TrackEngagement.track_id.in_(track_ids), TrackEngagement.profile_id.in_(members))
        .group_by(TrackEngagement.track_id)
    ).all()
    return Summaries(len(members), (
        (track_id, TrackSummary(len(members), listened, int(liked or 0), int(loved or 0), bool(me), reaction,
                                personal))
        for track_id, listened, liked, loved, me, reaction in rows
    ), personal)


def workspace_summaries(workspace, track_ids=None):
    """Summaries for the workspace's tracks (or the given ones), in two queries."""
    if track_ids is None:
        track_ids = workspace.tracks_query().with_only_columns(Track.id)
    return summaries(track_ids, member_ids(workspace), workspace.profile.id, workspace.is_personal)


@dataclass(frozen=True)
class MemberRow:
    """One member's state on one track, for "Alex: listened, loved · Sam: not yet"."""

    profile_id: uuid.UUID
    name: str
    listened: bool
    reaction: str | None

    @property
    def label(self):
        parts = (["listened"] if self.listened else []) + ([self.reaction] if self.reaction else [])
        return ", ".join(parts) or "not yet"


def track_detail(workspace, track):
    """(TrackSummary, [MemberRow]) for the track page, in one query."""
    engagement = and_(TrackEngagement.profile_id == Profile.id, TrackEngagement.track_id == track.id)
    query = (select(Profile.id, Profile.name, TrackEngagement.listened_at, TrackEngagement.reaction)
             .outerjoin(TrackEngagement, engagement))
    if workspace.is_personal:
        query = query.where(Profile.id == workspace.profile.id)
    else:
        query = query.join(BandMember, BandMember.profile_id == Profile.id).where(
            BandMember.band_id == workspace.band.id)
    rows = [MemberRow(profile_id, name, listened_at is not None, reaction)
            for profile_id, name, listened_at, reaction in
            db.session.execute(query.order_by(func.lower(Profile.name), Profile.id)).all()]
    me = next((row for row in rows if row.profile_id == workspace.profile.id), None)
    summary = TrackSummary(
        members=len(rows),
        listened=sum(row.listened for row in rows),
        liked=sum(row.reaction == "liked" for row in rows),
        loved=sum(row.reaction == "loved" for row in rows),
        me_listened=bool(me and me.listened),
        my_reaction=me.reaction if me else None,
        personal=workspace.is_personal,
    )
    return summary, rows


@dataclass(frozen=True)
class PlaylistProgress:
    """How many of a playlist's tracks the viewer has listened to."""

    listened: int
    total: int

    @property
    def label(self):
        return f"You've listened to {self.listened}/{self.total}" if self.total else ""


def playlist_progress(playlist_ids, viewer_id):
    """playlist id -> PlaylistProgress for many playlists in one query (ids may be a SELECT).

    Playlists play each song's latest version, so that is the version whose listen counts.
    """
    latest, is_latest_of_item = latest_for(Track)
    mine = and_(TrackEngagement.track_id == latest.id, TrackEngagement.profile_id == viewer_id)
    rows = db.session.execute(
        select(PlaylistTrack.playlist_id, func.count(PlaylistTrack.id), func.count(TrackEngagement.listened_at))
        .join(Track, Track.id == PlaylistTrack.track_id)
        .join(latest, is_latest_of_item)
        .outerjoin(TrackEngagement, mine)
        .where(PlaylistTrack.playlist_id.in_(playlist_ids))
        .group_by(PlaylistTrack.playlist_id)
    ).all()
    return {playlist_id: PlaylistProgress(listened, total) for playlist_id, total, listened in rows}


def workspace_playlist_progress(workspace):
    """PlaylistProgress for every playlist of the workspace, for the viewer, in one query."""
    return playlist_progress(workspace.playlists_query().with_only_columns(Playlist.id), workspace.profile.id)


def progress_of(playlist, viewer_id):
    """One playlist's PlaylistProgress (zero of zero when it is empty)."""
    return playlist_progress([playlist.id], viewer_id).get(playlist.id, PlaylistProgress(0, 0))


def collab_row_context(workspace):
    """What the workspace page's track rows and playlist cards show: summaries and progress (3 queries)."""
    return {"engagement_summaries": workspace_summaries(workspace),
            "playlist_progress": workspace_playlist_progress(workspace)}
