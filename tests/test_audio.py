"""Audio sniffing on real generated files of every supported format, and refusals of everything else."""
import io
import math
import os
import random
import shutil
import struct
import subprocess
import wave
import zlib

import pytest
import soundfile

from coretet.services.audio import REFUSAL, NotAudioError, sniff

SECONDS = 3.0
FFMPEG = shutil.which("ffmpeg")

# name -> (expected kind, content type)
EXPECTED = {
    "tone.wav": ("wav", "audio/wav"),
    "tone.aiff": ("aiff", "audio/aiff"),
    "tone.flac": ("flac", "audio/flac"),
    "tone.ogg": ("ogg", "audio/ogg"),
    "tone.opus": ("opus", "audio/opus"),
    "tone.mp3": ("mp3", "audio/mpeg"),
    "tagged.mp3": ("mp3", "audio/mpeg"),
    "tone.m4a": ("m4a", "audio/mp4"),
    "tone.aac": ("aac", "audio/aac"),
}
# name -> (soundfile format, subtype, sample rate)
SOUNDFILE_MADE = {
    "tone.aiff": ("AIFF", "PCM_16", 44100),
    "tone.flac": ("FLAC", "PCM_16", 44100),
    "tone.ogg": ("OGG", "VORBIS", 44100),
    "tone.opus": ("OGG", "OPUS", 48000),  # Opus only runs at 48 kHz
    "tone.mp3": ("MP3", "MPEG_LAYER_III", 44100),
    "tagged.mp3": ("MP3", "MPEG_LAYER_III", 44100),
}
# name -> ffmpeg output arguments
FFMPEG_MADE = {
    "tone.m4a": ["-c:a", "aac", "-b:a", "128k"],
    "tone.aac": ["-c:a", "aac", "-b:a", "128k", "-f", "adts"],
}


def tone(rate, seconds=SECONDS):
    """A sine sweep as float samples: real audio, not silence."""
    return [0.4 * math.sin(2 * math.pi * (330 + 110 * i / rate) * i / rate) for i in range(int(rate * seconds))]


def write_wav(target, rate=22050, seconds=SECONDS):
    """A 16-bit mono WAV written with the standard library to a file name or a binary file object."""
    with wave.open(target, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(s * 32000)) for s in tone(rate, seconds)))


def wav_bytes(rate=8000, seconds=0.5):
    """A small WAV as bytes, for the upload tests."""
    buffer = io.BytesIO()
    write_wav(buffer, rate, seconds)
    return buffer.getvalue()


def soundfile_supports(fmt, subtype):
    return fmt in soundfile.available_formats() and subtype in soundfile.available_subtypes(fmt)


def require_ffmpeg():
    """Skip without ffmpeg, unless CI demands it (REQUIRE_FFMPEG=1), then fail."""
    if FFMPEG:
        return
    reason = "ffmpeg is not installed, so m4a/aac samples can't be made (CI installs it)"
    if os.environ.get("REQUIRE_FFMPEG") == "1":
        pytest.fail(f"REQUIRE_FFMPEG=1 but {reason}")
    pytest.skip(reason)


def png_bytes():
    """A real 1x1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Every sample this machine can make, by name; missing ones are absent."""
    folder = tmp_path_factory.mktemp("audio")
    made = {}
    write_wav(str(folder / "tone.wav"))
    made["tone.wav"] = folder / "tone.wav"
    for name, (fmt, subtype, rate) in SOUNDFILE_MADE.items():
        if soundfile_supports(fmt, subtype):
            soundfile.write(str(folder / name), tone(rate), rate, format=fmt, subtype=subtype)
            made[name] = folder / name
    if "tagged.mp3" in made:
        from mutagen.easyid3 import EasyID3

        tags = EasyID3()
        tags["title"] = "A tagged song"
        tags.save(str(made["tagged.mp3"]))
    if FFMPEG:
        for name, args in FFMPEG_MADE.items():
            subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(folder / "tone.wav"), *args,
                            str(folder / name)], check=True, timeout=60)
            made[name] = folder / name
    return made


def sample(samples, name):
    if name in FFMPEG_MADE:
        require_ffmpeg()
    if name not in samples:
        fmt, subtype, _ = SOUNDFILE_MADE[name]
        pytest.skip(f"this libsndfile ({soundfile.__libsndfile_version__}) can't write {fmt}/{subtype}")
    return samples[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_format_is_recognised_by_content_with_its_duration(samples, name, tmp_path):
    """The kind comes from the bytes (the file is renamed to hide its extension); duration within 0.1 s."""
    disguised = tmp_path / "upload.bin"
    shutil.copy(sample(samples, name), disguised)

    info = sniff(disguised)

    assert (info.kind, info.content_type) == EXPECTED[name]
    assert info.duration_seconds == pytest.approx(SECONDS, abs=0.1)


def test_the_id3_tag_really_was_written(samples):
    """The tagged sample starts with an ID3 header, so the ID3-skipping path is the one exercised."""
    assert sample(samples, "tagged.mp3").read_bytes()[:3] == b"ID3"


def test_an_mp4_with_only_video_is_refused(tmp_path):
    require_ffmpeg()
    video = tmp_path / "clip.m4a"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=32x32:rate=5",
                    "-c:v", "mpeg4", "-f", "mp4", str(video)], check=True, timeout=60)

    with pytest.raises(NotAudioError):
        sniff(video)


NOT_AUDIO = {
    "text renamed .mp3": b"These are the lyrics, not the song.\n" * 200,
    "empty file": b"",
    "random bytes": random.Random(7).randbytes(64 * 1024),
    "png": png_bytes(),
    "mp3 frame sync then noise": b"\xff\xfb\x90\xc4" + random.Random(8).randbytes(64 * 1024),
    "adts sync then noise": b"\xff\xf1\x50\x80" + random.Random(9).randbytes(64 * 1024),
    "ogg page of an unknown codec": b"OggS\x00\x02" + bytes(20) + b"\x01\x1e" + b"\x80theora" + bytes(64),
    "riff that is not wave": b"RIFF\x24\x00\x00\x00AVI LIST" + bytes(64),
}


@pytest.mark.parametrize("label", sorted(NOT_AUDIO))
def test_things_that_are_not_audio_are_refused_with_the_readable_message(label, tmp_path):
    path = tmp_path / "song.mp3"
    path.write_bytes(NOT_AUDIO[label])

    with pytest.raises(NotAudioError) as refused:
        sniff(path)
    assert str(refused.value) == REFUSAL


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("keep", [4, 12, 24])
def test_a_truncated_header_is_refused(samples, name, keep, tmp_path):
    """The right magic bytes alone are not enough: the parser must find a whole header."""
    data = sample(samples, name).read_bytes()
    truncated = tmp_path / "cut.mp3"
    truncated.write_bytes(data[:keep])

    with pytest.raises(NotAudioError):
        sniff(truncated)
