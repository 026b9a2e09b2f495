"""Demo data for `make run`: three accounts, a band, short generated songs and playlists."""
import io
import math
import struct
import wave
from functools import lru_cache

from sqlalchemy import select

from coretet.extensions import db
from coretet.models import Band, BandMember, Playlist, PlaylistTrack, Profile, Track, utcnow
from coretet.services import accounts
from coretet.services.activity import seed_collab
from coretet.services.filestore import new_key
from coretet.services.tiers import get_tier
from coretet.tasks import queue_analysis

DEMO_PASSWORD = "coretet-demo-2026"
DEMO_LOGINS = (
    ("alex@demo.coretet.app", "Band tier, owner of The Night Shift"),
    ("sam@demo.coretet.app", "Free tier, member of The Night Shift"),
    ("admin@demo.coretet.app", "Admin"),
)
SAMPLE_RATE = 22050
# (title, seconds, root frequency in Hz, beats per minute)
SONGS = (
    ("Late Bus Home (demo)", 12, 220.0, 96),
    ("Paper Lanterns", 9, 261.63, 120),
    ("Static on the Line", 10, 196.0, 84),
    ("Night Shift Theme", 14, 174.61, 110),
    ("Basement Jam #3", 8, 246.94, 132),
)
_SCALE = (0, 3, 5, 7, 10, 12, 7, 5)  # minor pentatonic walk, in semitones
V2_NOTES = "Tightened the tempo (+8 bpm) and pushed the whole mix up; the bass sits better now."


@lru_cache(maxsize=8)
def render_song(seconds, root, bpm, sample_rate=SAMPLE_RATE, level=0.45):
    """A short melody as 16-bit mono WAV bytes: real, playable audio made on the spot."""
    beat = 60.0 / bpm
    frames = bytearray()
    for i in range(int(seconds * sample_rate)):
        t = i / sample_rate
        step = int(t / beat)
        freq = root * 2 ** (_SCALE[step % len(_SCALE)] / 12)
        into_beat = (t % beat) / beat
        envelope = min(1.0, into_beat * 20) * math.exp(-3.0 * into_beat)
        sample = level * envelope * (math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t))
        frames += struct.pack("<h", int(max(-1.0, min(1.0, sample)) * 32000))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def seed(store, keys):
    """Create the demo data unless it exists; returns True when it created it."""
    if db.session.scalar(select(Profile).where(Profile.email == DEMO_LOGINS[0][0])):
        return False
    password_hash = accounts.hash_password(DEMO_PASSWORD)
    now = utcnow()

    def profile(email, name, tier, phone, is_admin=False):
        row = Profile(email=email, name=name, password_hash=password_hash, tier=tier,
                      storage_limit=get_tier(tier).personal_storage_bytes,
                      phone_verified_at=now if phone else None, is_admin=is_admin)
        accounts.set_phone(row, phone, keys)
        db.session.add(row)
        return row

    alex = profile("alex@demo.coretet.app", "Alex Rivera", "band", "+12015550123")
    sam = profile("sam@demo.coretet.app", "Sam Okafor", "free", "+12015550124")
    profile("admin@demo.coretet.app", "CoreTet Admin", "free", None, is_admin=True)
    db.session.flush()
    band = Band(name="The Night Shift", created_by=alex.id)
    db.session.add(band)
    db.session.flush()
    db.session.add_all([
        BandMember(band_id=band.id, profile_id=alex.id, role="owner"),
        BandMember(band_id=band.id, profile_id=sam.id, role="member"),
    ])

    tracks = []
    for index, (title, seconds, root, bpm) in enumerate(SONGS):
        key = new_key()
        data = render_song(seconds, root, bpm)
        store.save(key, io.BytesIO(data))
        in_band = index < 3
        track = Track(title=title, storage_key=key, file_size=len(data), duration_seconds=float(seconds),
                      content_type="audio/wav", created_by=(sam.id if index == 2 else alex.id),
                      band_id=band.id if in_band else None)
        db.session.add(track)
        tracks.append(track)
    db.session.flush()

    def playlist(title, description, owner, members, band_id=None):
        row = Playlist(title=title, description=description, created_by=owner.id, band_id=band_id)
        db.session.add(row)
        db.session.flush()
        for position, track in enumerate(members):
            db.session.add(PlaylistTrack(playlist_id=row.id, track_id=track.id, position=position,
                                         added_by=owner.id))

    # A second version of the first song: a touch faster and mixed hotter, so A/B compare has work to do.
    first = tracks[0]
    title, seconds, root, bpm = SONGS[0]
    data = render_song(seconds, root, bpm + 8, level=0.7)
    key = new_key()
    store.save(key, io.BytesIO(data))
    second = Track(title=first.title, storage_key=key, file_size=len(data), duration_seconds=float(seconds),
                   content_type="audio/wav", created_by=sam.id, band_id=band.id, lineage_id=first.lineage_id,
                   version_number=2, version_notes=V2_NOTES)
    db.session.add(second)
    db.session.flush()

    playlist("Summer EP Demos", "Rough mixes for the EP.", alex, tracks[:3], band.id)
    playlist("Solo sketches", "Ideas that aren't band songs yet.", alex, tracks[3:])
    seed_collab((alex, sam), (second, tracks[1]))
    for track in tracks + [second]:
        queue_analysis(track.id)  # waveforms and loudness: in-process after the commit without Redis
    db.session.commit()
    return True
