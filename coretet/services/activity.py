"""A band's activity: uploads, new versions, comments and who listened, newest first (SPEC §9).

Everything is read through the band's own tracks, so nothing of another band (or of a
track that moved out) can appear; listens count only for current members.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from coretet.extensions import db
from coretet.models import BandMember, Profile, Track, TrackComment, TrackEngagement
from coretet.services.storage import format_duration

PAGE_SIZE = 40
EXCERPT = 140


@dataclass(frozen=True)
class Event:
    """One line of the activity list."""

    at: datetime
    kind: str  # upload | version | comment | reply | listen
    who: str
    track_id: uuid.UUID
    track_title: str
    version_number: int
    detail: str = ""
    comment_id: uuid.UUID | None = None

    @property
    def verb(self):
        return {
            "upload": "uploaded",
            "version": f"uploaded version {self.version_number} of",
            "comment": "commented on",
            "reply": "replied on",
            "listen": "listened to",
        }[self.kind]


def _excerpt(text):
    text = " ".join((text or "").split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1].rstrip() + "…"


def _page(query, column, before, limit):
    if before is not None:
        query = query.where(column < before)
    return db.session.execute(query.order_by(column.desc()).limit(limit + 1)).all()


def band_activity(band, before=None, limit=PAGE_SIZE):
    """(events, next_before): up to `limit` events older than `before`, and the cursor for more (or None)."""
    uploader = Profile.name.label("who")
    tracks = _page(
        select(Track.created_at, uploader, Track.id, Track.title, Track.version_number, Track.version_notes)
        .outerjoin(Profile, Profile.id == Track.created_by).where(Track.band_id == band.id),
        Track.created_at, before, limit)
    comments = _page(
        select(TrackComment.created_at, uploader, Track.id, Track.title, Track.version_number,
               TrackComment.body, TrackComment.parent_id, TrackComment.position_seconds,
               TrackComment.voice_duration, TrackComment.id)
        .join(Track, Track.id == TrackComment.track_id)
        .join(Profile, Profile.id == TrackComment.author_id)
        .where(Track.band_id == band.id),
        TrackComment.created_at, before, limit)
    listens = _page(
        select(TrackEngagement.listened_at, uploader, Track.id, Track.title, Track.version_number)
        .join(Track, Track.id == TrackEngagement.track_id)
        .join(Profile, Profile.id == TrackEngagement.profile_id)
        .join(BandMember, (BandMember.profile_id == Profile.id) & (BandMember.band_id == band.id))
        .where(Track.band_id == band.id, TrackEngagement.listened_at.is_not(None)),
        TrackEngagement.listened_at, before, limit)

    events = [
        Event(at, "version" if number > 1 else "upload", who or "A former member", track_id, title, number,
              _excerpt(notes) if number > 1 else "")
        for at, who, track_id, title, number, notes in tracks
    ]
    for at, who, track_id, title, number, body, parent_id, position, voice, comment_id in comments:
        detail = _excerpt(body)
        if voice is not None:
            detail = f"Voice memo ({format_duration(voice)})" + (f": {detail}" if detail else "")
        if position is not None:
            detail = f"at {format_duration(position)}: {detail}"
        events.append(Event(at, "reply" if parent_id else "comment", who, track_id, title, number, detail,
                            comment_id))
    events += [Event(at, "listen", who, track_id, title, number) for at, who, track_id, title, number in listens]
    events.sort(key=lambda event: event.at, reverse=True)
    more = len(events) > limit or any(len(rows) > limit for rows in (tracks, comments, listens))
    events = events[:limit]
    return events, (events[-1].at if more and events else None)


def seed_collab(people, tracks):
    """Demo life for `make run`: listens, reactions and a thread with timestamped comments and a reply.

    `people` are two band members (owner first), `tracks` two band tracks; the caller commits.
    No voice memo here: demo storage stays exactly the demo songs (record one in the browser).
    """
    from datetime import timedelta

    from coretet.models import utcnow

    alex, sam = people
    now = utcnow()
    first, second = tracks

    def comment(track, author, body, hours, position=None, parent=None):
        row = TrackComment(track_id=track.id, author_id=author.id, body=body, parent_id=parent.id if parent else None,
                           position_seconds=None if position is None else round(track.duration_seconds * position, 2),
                           created_at=now - timedelta(hours=hours), updated_at=now - timedelta(hours=hours))
        db.session.add(row)
        db.session.flush()
        return row

    comment(first, alex, "Rough mix from Sunday. Vocals are a guide take.", 6)
    bass = comment(first, sam, "The bass comes in late here. On purpose?", 5, position=0.35)
    comment(first, alex, "Yes, but half a beat too late. Fixing.", 4, parent=bass)
    comment(first, alex, "The harmony for the last chorus should start here.", 3, position=0.8)
    comment(second, sam, "Love the ending.", 2, position=0.9)
    for profile, track, listened, reaction in ((alex, first, True, "loved"), (sam, first, True, "liked"),
                                               (sam, second, True, "loved"), (alex, second, False, None)):
        at = now - timedelta(hours=1, minutes=len(profile.name))
        db.session.add(TrackEngagement(track_id=track.id, profile_id=profile.id, reaction=reaction,
                                       seconds_listened=track.duration_seconds * (0.9 if listened else 0.2),
                                       last_beacon_at=at, listened_at=at if listened else None))
