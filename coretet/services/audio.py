"""Audio type and duration decided by content: magic bytes first, then mutagen confirms and measures."""
import math
import mmap
from dataclasses import dataclass

import mutagen.aac
import mutagen.aiff
import mutagen.flac
import mutagen.mp3
import mutagen.mp4
import mutagen.oggopus
import mutagen.oggvorbis
import mutagen.wave

REFUSAL = "That file isn't audio CoreTet can play. Upload mp3, m4a/aac, wav, flac, ogg/opus or aiff."

# kind -> (content type served to players, the mutagen class that must parse the file)
FORMATS = {
    "mp3": ("audio/mpeg", mutagen.mp3.MP3),
    "aac": ("audio/aac", mutagen.aac.AAC),
    "m4a": ("audio/mp4", mutagen.mp4.MP4),
    "wav": ("audio/wav", mutagen.wave.WAVE),
    "flac": ("audio/flac", mutagen.flac.FLAC),
    "ogg": ("audio/ogg", mutagen.oggvorbis.OggVorbis),
    "opus": ("audio/opus", mutagen.oggopus.OggOpus),
    "aiff": ("audio/aiff", mutagen.aiff.AIFF),
}

ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
HEAD_BYTES = 512  # enough for an Ogg page header with a full segment table and the first packet's start


class NotAudioError(ValueError):
    """The file is not audio in one of the formats CoreTet plays."""

    def __init__(self, message=REFUSAL):
        super().__init__(message)


@dataclass(frozen=True)
class AudioInfo:
    """What an upload turned out to be."""

    kind: str
    content_type: str
    duration_seconds: float


def _after_id3(f):
    """Offset of the first byte after any ID3v2 tags (mp3 and aac files may start with them)."""
    offset = 0
    while True:
        f.seek(offset)
        header = f.read(10)
        if len(header) < 10 or header[:3] != b"ID3" or any(b & 0x80 for b in header[6:10]):
            return offset
        size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]
        footer = 10 if header[5] & 0x10 else 0
        offset += 10 + size + footer


def _is_mpeg_frame(head):
    """An MPEG audio frame header: 11-bit sync and no reserved version, layer, bitrate or rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate != 15 and rate != 3


def _is_adts(head):
    """An ADTS (raw AAC) frame header: 12-bit sync and layer 0."""
    return len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0


def _adts_duration(path, offset):
    """Exact ADTS duration from its frame headers (mutagen only estimates it from the bitrate)."""
    samples, rate = 0, None
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        while offset + 7 <= len(data) and _is_adts(data[offset:offset + 7]):
            head = data[offset:offset + 7]
            rate_index = (head[2] >> 2) & 0xF
            length = ((head[3] & 3) << 11) | (head[4] << 3) | (head[5] >> 5)
            if rate_index >= len(ADTS_RATES) or length < 7:
                break
            rate = rate or ADTS_RATES[rate_index]
            samples += 1024 * ((head[6] & 3) + 1)
            offset += length
    return samples / rate if rate else 0.0


def _ogg_codec(head):
    """Name the codec of an Ogg stream from the first packet of its first page."""
    if len(head) < 27 or head[4] != 0:
        return None
    packet = head[27 + head[26]:]
    if packet.startswith(b"\x01vorbis"):
        return "ogg"
    if packet.startswith(b"OpusHead"):
        return "opus"
    return None


def _kind_from_magic(head):
    """The format the leading bytes claim, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return _ogg_codec(head)
    if head[4:8] == b"ftyp":
        return "m4a"
    if _is_adts(head):
        return "aac"
    if _is_mpeg_frame(head):
        return "mp3"
    return None


def _has_sound(kind, info):
    """Reject parses where mutagen accepted the container but found no real audio in it."""
    if kind == "mp3":
        # Without four consistent frames (or a VBR header) mutagen is only guessing.
        return not info.sketchy
    if kind == "m4a":
        # An mp4 with no sound track (video only) has no audio codec.
        return bool(info.codec)
    return True


def sniff(path):
    """Identify an audio file by its content and read its duration; raise NotAudioError otherwise."""
    with open(path, "rb") as f:
        start = _after_id3(f)
        f.seek(start)
        head = f.read(HEAD_BYTES)
    kind = _kind_from_magic(head)
    if kind is None:
        raise NotAudioError()
    content_type, parser = FORMATS[kind]
    try:
        info = parser(path).info
    except Exception as exc:  # any parser failure on hostile or broken input means "not playable audio"
        raise NotAudioError() from exc
    if not _has_sound(kind, info):
        raise NotAudioError()
    length = _adts_duration(path, start) if kind == "aac" else getattr(info, "length", None)
    if not length or not math.isfinite(length) or length <= 0:
        raise NotAudioError()
    return AudioInfo(kind, content_type, float(length))
