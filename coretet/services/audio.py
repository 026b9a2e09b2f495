"""Audio type and duration decided by content: magic bytes first, then mutagen confirms and measures."""
import math
import mmap
import struct
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


# Voice memos recorded in the browser (comments): Chromium's MediaRecorder writes WebM/Opus
# with no duration in its header, and its MP4 is fragmented (mutagen reads ~0 s from it). Both
# are measured from their blocks and fragments, so the 30-second cap holds whatever the client says.
VOICE_REFUSAL = ("That recording isn't audio CoreTet can play. "
                 "Record again, or attach an ogg, webm, m4a, mp3 or wav file.")
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE, _SEGMENT, _INFO, _TIMECODE_SCALE, _DURATION = 0x4282, 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489
_TRACKS, _TRACK_ENTRY, _TRACK_NUMBER, _TRACK_TYPE, _CODEC_ID = 0x1654AE6B, 0xAE, 0xD7, 0x83, 0x86
_CLUSTER, _CLUSTER_TIMECODE, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK = 0x1F43B675, 0xE7, 0xA3, 0xA0, 0xA1
_EBML_DESCEND = {_SEGMENT, _INFO, _TRACKS, _TRACK_ENTRY, _CLUSTER, _BLOCK_GROUP}
_WEBM_AUDIO_CODECS = ("A_OPUS", "A_VORBIS")
_OPUS_FRAME_MS = (10, 20, 40, 60) * 3 + (10, 20) * 2 + (2.5, 5, 10, 20) * 4  # by TOC config 0..31


def _vint(data, pos, keep_marker=False):
    """An EBML variable-length integer at pos: (value, next position, all value bits set)."""
    first = data[pos]
    length = 9 - first.bit_length() if first else 9
    if length > 8 or pos + length > len(data):
        raise NotAudioError(VOICE_REFUSAL)
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1:pos + length]:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, pos + length, unknown


def _opus_packet_ms(packet):
    """How long one Opus packet plays, from its TOC byte (RFC 6716 §3.1)."""
    if not packet:
        return 0.0
    toc = packet[0]
    frames = (1, 2, 2, packet[1] & 0x3F if len(packet) > 1 else 0)[toc & 3]
    return _OPUS_FRAME_MS[toc >> 3] * frames


def _webm_duration(data):
    """Seconds of audio in a WebM/Matroska file, read from its blocks; NotAudioError if it has none."""
    pos, scale, declared, doctype = 0, 1_000_000, 0.0, None
    tracks, track, cluster_time, end_ns = {}, {}, 0, None
    while pos < len(data):
        element, pos, _ = _vint(data, pos, keep_marker=True)
        size, pos, unknown = _vint(data, pos)
        if element == 0x1A45DFA3:
            header_end = pos + size
            while pos < header_end:
                child, pos, _ = _vint(data, pos, keep_marker=True)
                child_size, pos, _ = _vint(data, pos)
                if child == _EBML_DOCTYPE:
                    doctype = bytes(data[pos:pos + child_size]).rstrip(b"\0")
                pos += child_size
            continue
        if element in _EBML_DESCEND:
            if element == _TRACK_ENTRY:
                track = {}
            continue  # read its children in place; unknown sizes (live recordings) need no end
        if unknown:
            raise NotAudioError(VOICE_REFUSAL)
        body = data[pos:pos + size]
        pos += size
        if element == _TIMECODE_SCALE:
            scale = int.from_bytes(body, "big") or scale
        elif element == _DURATION and size in (4, 8):
            declared = struct.unpack(">f" if size == 4 else ">d", body)[0]
        elif element in (_TRACK_NUMBER, _TRACK_TYPE, _CODEC_ID):
            track[element] = body.decode("ascii", "replace") if element == _CODEC_ID else int.from_bytes(body, "big")
            if _TRACK_NUMBER in track:
                tracks[track[_TRACK_NUMBER]] = track
        elif element == _CLUSTER_TIMECODE:
            cluster_time = int.from_bytes(body, "big")
        elif element in (_SIMPLE_BLOCK, _BLOCK) and size > 4:
            number, start, _ = _vint(body, 0)
            if tracks.get(number, {}).get(_CODEC_ID) not in _WEBM_AUDIO_CODECS:
                continue
            relative = struct.unpack(">h", body[start:start + 2])[0]
            playing_ms = _opus_packet_ms(body[start + 3:]) if tracks[number][_CODEC_ID] == "A_OPUS" else 0
            block_end = (cluster_time + relative) * scale + playing_ms * 1_000_000
            end_ns = block_end if end_ns is None else max(end_ns, block_end)
    if doctype not in (b"webm", b"matroska") or end_ns is None:
        raise NotAudioError(VOICE_REFUSAL)
    if any(entry.get(_TRACK_TYPE) not in (None, 2) for entry in tracks.values()):
        raise NotAudioError(VOICE_REFUSAL)  # a video track: not a voice memo
    return max(end_ns / 1e9, declared * scale / 1e9)


def _mp4_fragment_seconds(path):
    """Seconds in a fragmented MP4's moof boxes (MediaRecorder's MP4), 0.0 when it has none."""
    timescale, default_duration, total = None, 0, 0

    def boxes(data, start, end):
        while start + 8 <= end:
            size, kind = struct.unpack(">I4s", data[start:start + 8])
            header = 8
            if size == 1 and start + 16 <= end:
                size, header = struct.unpack(">Q", data[start + 8:start + 16])[0], 16
            if size < header or start + size > end:
                return
            yield kind, start + header, start + size
            start += size

    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for kind, start, end in boxes(data, 0, len(data)):
            if kind == b"moov":
                for trak, t_start, t_end in boxes(data, start, end):
                    for mdia, m_start, m_end in boxes(data, t_start, t_end) if trak == b"trak" else ():
                        for mdhd, h_start, _ in boxes(data, m_start, m_end) if mdia == b"mdia" else ():
                            if mdhd == b"mdhd" and timescale is None:
                                offset = 20 if data[h_start] == 1 else 12
                                timescale = struct.unpack(">I", data[h_start + offset:h_start + offset + 4])[0]
            elif kind == b"moof":
                for traf, t_start, t_end in boxes(data, start, end):
                    for child, c_start, c_end in boxes(data, t_start, t_end) if traf == b"traf" else ():
                        flags = int.from_bytes(data[c_start + 1:c_start + 4], "big")
                        if child == b"tfhd" and flags & 0x08:
                            offset = c_start + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                            default_duration = struct.unpack(">I", data[offset:offset + 4])[0]
                        elif child == b"trun":
                            count = struct.unpack(">I", data[c_start + 4:c_start + 8])[0]
                            if not flags & 0x100:
                                total += count * default_duration
                                continue
                            offset = c_start + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
                            step = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
                            for _ in range(min(count, (c_end - offset) // step)):
                                total += struct.unpack(">I", data[offset:offset + 4])[0]
                                offset += step
    return total / timescale if timescale else 0.0


def sniff_voice(path):
    """Identify a recorded voice memo by content (WebM/Opus too) and measure its real duration."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head == EBML_MAGIC:
        try:
            with open(path, "rb") as f:
                seconds = _webm_duration(f.read())
        except (IndexError, struct.error, ValueError) as exc:
            raise NotAudioError(VOICE_REFUSAL) from exc
        if not math.isfinite(seconds) or seconds <= 0:
            raise NotAudioError(VOICE_REFUSAL)
        return AudioInfo("webm", "audio/webm", seconds)
    try:
        info = sniff(path)
    except NotAudioError:
        raise NotAudioError(VOICE_REFUSAL) from None
    if info.kind == "m4a":
        try:
            fragments = _mp4_fragment_seconds(path)
        except (struct.error, ValueError, IndexError) as exc:
            raise NotAudioError(VOICE_REFUSAL) from exc
        if fragments > info.duration_seconds:
            return AudioInfo(info.kind, info.content_type, fragments)
    return info
