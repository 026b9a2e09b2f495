"""Row factories for tests: each makes a valid row with sensible defaults and commits it."""
import io
import itertools
import uuid

import phonenumbers
from flask import current_app
from werkzeug.security import generate_password_hash

from coretet.extensions import db
from coretet.models import Band, BandMember, Playlist, PlaylistTrack, Profile, Track, utcnow
from coretet.services import accounts
from coretet.services.keys import keys_from_config
from coretet.services.tiers import get_tier

PASSWORD = "correct horse battery"
_PASSWORD_HASH = None
_counter = itertools.count(1)


def password_hash():
    # scrypt is deliberately slow; one hash serves every test profile.
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = generate_password_hash(PASSWORD)
    return _PASSWORD_HASH


def make_profile(email=None, name=None, tier="free", phone=None, verified=True, is_admin=False, **extra):
    """`phone` as anyone would type it ("+12015550123", "(201) 555-0123"); stored encrypted, as the app does."""
    n = next(_counter)
    profile = Profile(
        email=email or f"user{n}@example.com",
        name=name or f"User {n}",
        password_hash=password_hash(),
        tier=tier,
        storage_limit=get_tier(tier).personal_storage_bytes,
        phone_verified_at=utcnow() if phone and verified else None,
        is_admin=is_admin,
        **extra,
    )
    if phone:
        e164 = phonenumbers.format_number(phonenumbers.parse(phone, "US"), phonenumbers.PhoneNumberFormat.E164)
        accounts.set_phone(profile, e164, keys_from_config(current_app.config))
    db.session.add(profile)
    db.session.commit()
    return profile


def make_band(owner, name=None, members=(), **extra):
    band = Band(name=name or f"Band {next(_counter)}", created_by=owner.id, **extra)
    db.session.add(band)
    db.session.flush()
    db.session.add(BandMember(band_id=band.id, profile_id=owner.id, role="owner"))
    for member in members:
        db.session.add(BandMember(band_id=band.id, profile_id=member.id, role="member"))
    db.session.commit()
    return band


def make_track(owner, band=None, size=1000, title=None, duration=30.0, content_type="audio/wav", store=None):
    """A track row; with `store`, also a file of `size` bytes under its key."""
    track = Track(
        title=title or f"Track {next(_counter)}",
        storage_key=f"test/{uuid.uuid4().hex}",
        file_size=size,
        duration_seconds=duration,
        content_type=content_type,
        created_by=owner.id,
        band_id=band.id if band else None,
    )
    if store is not None:
        store.save(track.storage_key, io.BytesIO(b"\0" * size))
    db.session.add(track)
    db.session.commit()
    return track


def make_playlist(owner, tracks=(), band=None, title=None):
    playlist = Playlist(title=title or f"Playlist {next(_counter)}", created_by=owner.id,
                        band_id=band.id if band else None)
    db.session.add(playlist)
    db.session.flush()
    for position, track in enumerate(tracks):
        db.session.add(PlaylistTrack(playlist_id=playlist.id, track_id=track.id,
                                     position=position, added_by=owner.id))
    db.session.commit()
    return playlist


def make_comment(author, track, body="Nice take", position=None, parent=None, voice=None, store=None):
    """A comment row; with `voice` (bytes) and `store`, a voice memo stored under its own key."""
    from coretet.models import TrackComment

    comment = TrackComment(track_id=track.id, author_id=author.id, body=body, position_seconds=position,
                           parent_id=parent.id if parent else None)
    if voice is not None:
        comment.voice_storage_key = f"voice/test/{uuid.uuid4().hex}"
        comment.voice_size, comment.voice_duration, comment.voice_content_type = len(voice), 2.0, "audio/webm"
        store.save(comment.voice_storage_key, io.BytesIO(voice))
    db.session.add(comment)
    db.session.commit()
    return comment


def make_version(track, uploader=None, notes="", size=1000, duration=30.0, store=None):
    """The next version of `track`'s song, in its workspace (numbered after the highest so far)."""
    from sqlalchemy import func, select

    number = db.session.scalar(select(func.max(Track.version_number)).where(Track.lineage_id == track.lineage_id))
    version = Track(
        title=track.title, storage_key=f"test/{uuid.uuid4().hex}", file_size=size, duration_seconds=duration,
        content_type=track.content_type, created_by=uploader.id if uploader else track.created_by,
        band_id=track.band_id, lineage_id=track.lineage_id, version_number=number + 1, version_notes=notes,
    )
    if store is not None:
        store.save(version.storage_key, io.BytesIO(b"\0" * size))
    db.session.add(version)
    db.session.commit()
    return version
