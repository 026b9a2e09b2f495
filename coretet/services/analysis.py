"""Waveform peaks and integrated loudness of an audio file, and the analysis state of track rows.

Decoding streams block by block: soundfile (libsndfile) reads what it can open;
anything else (m4a/aac, and mp3 where libsndfile lacks it) goes through Debian's
ffmpeg, which decodes to 32-bit float WAV on a pipe. Memory stays at about one
block (65,536 frames) whatever the file's length.

Loudness is ITU-R BS.1770-4 integrated loudness with pyloudnorm's K-weighting
filters. pyloudnorm's own Meter.integrated_loudness needs the whole decoded
signal in memory (several copies of it: a one-hour stereo take is gigabytes), so
the filters run here block by block with their state carried across blocks, and
the standard's gating runs on 100 ms energies (a 400 ms block is four of them).
tests/test_analysis.py checks the result against Meter.integrated_loudness.
"""
import logging
import shutil
import struct
import subprocess
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyloudnorm
import soundfile
from scipy.signal import lfilter
from sqlalchemy import and_, or_, select, update

from coretet.extensions import db
from coretet.models import Track, utcnow

log = logging.getLogger(__name__)

PEAK_POINTS = 400
PEAK_WINDOW = 256  # samples per fine peak window; the points are maxima over these windows
BLOCK_FRAMES = 65536
FFMPEG_TIMEOUT = 20 * 60  # seconds; the job itself may run 30 minutes (tasks.ANALYSIS_JOB_TIMEOUT)
STALE_AFTER = timedelta(minutes=45)  # a 'running' claim older than any job can live: its worker died
ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU below the absolutely gated loudness
# BS.1770 channel weights: L, R, C at 1, the surrounds at 1.41 (pyloudnorm's channel order).
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)

UNDECODABLE = "The file could not be decoded as audio."
NO_FFMPEG = "This format needs ffmpeg, which is not installed on the server."
TOO_SLOW = "Decoding took too long."
MISSING = "The stored file is missing."
EMPTY = "The file holds no audio samples."
UNEXPECTED = "Something went wrong while analysing this file."


class AnalysisError(Exception):
    """The file could not be analysed; `message` is short and shown to the band."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Analysis:
    """What the worker stores: peaks 0..1 (max |sample| per point) and loudness (None when silent or too short)."""

    peaks: list
    loudness_lufs: float | None
    seconds: float
    sample_rate: int
    channels: int


# --- decoding ---------------------------------------------------------------------------------------------


class _Decoded:
    """An open audio source: rate, channel count and float32 blocks of shape (frames, channels)."""

    def __init__(self, rate, channels, blocks, close=lambda: None):
        self.rate, self.channels, self.blocks, self.close = rate, channels, blocks, close


def _soundfile_source(path):
    """libsndfile's reader, or None when it cannot open the file (ffmpeg gets a go)."""
    try:
        sound = soundfile.SoundFile(str(path))
    except (RuntimeError, TypeError, ValueError):
        return None

    def blocks():
        try:
            yield from sound.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True)
        except RuntimeError as exc:
            raise AnalysisError(UNDECODABLE) from exc

    return _Decoded(sound.samplerate, sound.channels, blocks(), sound.close)


def _read_exactly(pipe, size):
    data = bytearray()
    while len(data) < size:
        chunk = pipe.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _wav_format(pipe):
    """(channels, rate) from the header ffmpeg writes before the float samples; leaves the pipe at the data."""
    head = _read_exactly(pipe, 12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AnalysisError(UNDECODABLE)
    channels = rate = None
    while True:
        chunk = _read_exactly(pipe, 8)
        if len(chunk) < 8:
            raise AnalysisError(UNDECODABLE)
        kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if kind == b"data":
            break
        body = _read_exactly(pipe, size + (size & 1))
        if kind == b"fmt " and len(body) >= 16:
            channels, rate = struct.unpack("<HI", body[2:8])
    if not channels or not rate:
        raise AnalysisError(UNDECODABLE)
    return channels, rate


@contextmanager
def _ffmpeg_source(path, ffmpeg, timeout):
    """ffmpeg decoding the file's first audio stream to float WAV on stdout, killed after `timeout` seconds."""
    command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
               "-map", "0:a:0", "-map_metadata", "-1", "-c:a", "pcm_f32le", "-f", "wav", "-"]
    # stderr goes to a file: a pipe nobody reads could fill up and stall ffmpeg.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            process.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            try:
                channels, rate = _wav_format(process.stdout)
            except AnalysisError:
                process.wait()
                raise AnalysisError(TOO_SLOW if timed_out.is_set() else UNDECODABLE) from None
            frame_bytes = 4 * channels

            def blocks():
                while data := _read_exactly(process.stdout, BLOCK_FRAMES * frame_bytes):
                    whole = len(data) - len(data) % frame_bytes
                    yield np.frombuffer(data[:whole], dtype="<f4").reshape(-1, channels)
                if process.wait() != 0:
                    errors.seek(0)
                    log.info("ffmpeg could not decode %s: %s", path, errors.read(500).decode("utf-8", "replace"))
                    raise AnalysisError(TOO_SLOW if timed_out.is_set() else UNDECODABLE)

            yield _Decoded(rate, channels, blocks())
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()


@contextmanager
def _open(path, ffmpeg, timeout):
    source = _soundfile_source(path)
    if source is not None:
        try:
            yield source
        finally:
            source.close()
        return
    if not ffmpeg:
        raise AnalysisError(NO_FFMPEG)
    with _ffmpeg_source(path, ffmpeg, timeout) as source:
        yield source


# --- measuring --------------------------------------------------------------------------------------------


class _Peaks:
    """Max |sample| over fixed small windows as blocks arrive; reduced to the wanted points at the end."""

    def __init__(self):
        self.windows, self.carry = [], np.empty(0, dtype=np.float32)

    def add(self, block):
        loudest = np.concatenate((self.carry, np.abs(block).max(axis=1)))
        whole = len(loudest) - len(loudest) % PEAK_WINDOW
        if whole:
            self.windows.append(loudest[:whole].reshape(-1, PEAK_WINDOW).max(axis=1))
        self.carry = loudest[whole:]

    def points(self, count):
        parts = self.windows + ([self.carry.max(keepdims=True)] if len(self.carry) else [])
        if not parts:
            return []
        fine = np.concatenate(parts)
        count = min(count, len(fine))
        starts = np.linspace(0, len(fine), count + 1).astype(int)[:-1]
        coarse = np.clip(np.maximum.reduceat(fine, starts), 0.0, 1.0)
        return [round(float(value), 3) for value in coarse]


class _Loudness:
    """K-weighted energy per channel in 100 ms steps, filtered block by block with carried filter state."""

    def __init__(self, rate, channels):
        meter = pyloudnorm.Meter(rate)  # BS.1770-4 K-weighting: a high shelf, then a high pass
        self.stages = [(stage.passband_gain, stage.b, stage.a) for stage in meter._filters.values()]
        self.state = [np.zeros((max(len(a), len(b)) - 1, channels)) for _, b, a in self.stages]
        self.rate, self.channels = rate, channels
        self.consumed = 0  # samples per channel seen so far
        self.steps_done = 0  # 100 ms steps completed
        self.pending = np.zeros(channels)  # energy of the step in progress
        self.sums, self.lengths = [], []

    def _boundary(self, step):
        """Sample index where 100 ms step number `step` ends (exact for rates not divisible by 10)."""
        return (step + 1) * self.rate // 10

    def add(self, block):
        signal = block.astype(np.float64)
        for index, (gain, b, a) in enumerate(self.stages):
            signal, self.state[index] = lfilter(b, a, signal, axis=0, zi=self.state[index])
            signal *= gain
        running = np.cumsum(signal * signal, axis=0)
        start, end = self.consumed, self.consumed + len(signal)
        ends = []
        while self._boundary(self.steps_done + len(ends)) <= end:
            ends.append(self._boundary(self.steps_done + len(ends)))
        if ends:
            local = np.array(ends) - start
            totals = running[local - 1]
            energy = np.diff(np.vstack((np.zeros((1, self.channels)), totals)), axis=0)
            energy[0] += self.pending
            first = self._boundary(self.steps_done - 1) if self.steps_done else 0
            self.sums.append(energy)
            self.lengths.append(np.diff(np.array([first] + ends)))
            self.steps_done += len(ends)
            self.pending = running[-1] - totals[-1]
        else:
            self.pending = self.pending + running[-1]
        self.consumed = end

    def integrated(self):
        """Gated loudness in LUFS, or None when no 400 ms block is above the absolute gate (silence) or none exists."""
        if self.steps_done < 4:
            return None
        sums, lengths = np.vstack(self.sums), np.concatenate(self.lengths).astype(np.float64)
        window = np.ones(4)
        block_sums = np.stack([np.convolve(sums[:, ch], window, "valid") for ch in range(self.channels)], axis=1)
        block_mean_squares = block_sums / np.convolve(lengths, window, "valid")[:, None]
        weights = np.array([CHANNEL_WEIGHTS[ch] if ch < len(CHANNEL_WEIGHTS) else 1.0
                            for ch in range(self.channels)])
        with np.errstate(divide="ignore"):
            block_loudness = -0.691 + 10 * np.log10(block_mean_squares @ weights)
        above = block_loudness >= ABSOLUTE_GATE
        if not above.any():
            return None
        relative = -0.691 + 10 * np.log10(block_mean_squares[above].mean(axis=0) @ weights) + RELATIVE_GATE
        gated = above & (block_loudness > relative)
        return float(-0.691 + 10 * np.log10(block_mean_squares[gated].mean(axis=0) @ weights))


def analyse(path, points=PEAK_POINTS, ffmpeg=None, timeout=FFMPEG_TIMEOUT):
    """Decode the file at `path` and measure it; AnalysisError (with a short message) if it can't be decoded."""
    ffmpeg = ffmpeg if ffmpeg is not None else shutil.which("ffmpeg")
    with _open(path, ffmpeg, timeout) as source:
        peaks, loudness, frames = _Peaks(), _Loudness(source.rate, source.channels), 0
        for block in source.blocks:
            if not len(block):
                continue
            block = np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0)
            peaks.add(block)
            loudness.add(block)
            frames += len(block)
    if frames == 0:
        raise AnalysisError(EMPTY)
    lufs = loudness.integrated()
    return Analysis(peaks=peaks.points(points), loudness_lufs=round(lufs, 2) if lufs is not None else None,
                    seconds=frames / source.rate, sample_rate=source.rate, channels=source.channels)


@contextmanager
def local_copy(store, key):
    """A path to the stored file: the file itself on local disk, else a temporary download (chunked)."""
    if hasattr(store, "local_path"):
        if not store.exists(key):
            raise AnalysisError(MISSING)
        yield store.local_path(key)
        return
    with tempfile.NamedTemporaryFile(prefix="coretet-analysis-") as copy:
        try:
            body = store.open(key)
        except Exception as exc:
            raise AnalysisError(MISSING) from exc
        while chunk := body.read(1024 * 1024):
            copy.write(chunk)
        copy.flush()
        yield copy.name


# --- track rows -------------------------------------------------------------------------------------------


def _claimable(now):
    """Pending or failed tracks, and running ones whose worker must have died (no word for STALE_AFTER)."""
    return or_(Track.analysis_status.in_(("pending", "failed")),
               and_(Track.analysis_status == "running", Track.updated_at < now - STALE_AFTER))


def claim(track_id, now=None):
    """Mark the track 'running' if it needs analysing; True for the one caller that wins. Commits."""
    now = now or utcnow()
    won = db.session.execute(
        update(Track).where(Track.id == track_id, _claimable(now))
        .values(analysis_status="running", analysis_error=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return won


def record(track_id, result):
    """Store a finished analysis on a track this worker claimed. Commits."""
    db.session.execute(
        update(Track).where(Track.id == track_id, Track.analysis_status == "running")
        .values(analysis_status="done", analysis_error=None, waveform_peaks=result.peaks,
                loudness_lufs=result.loudness_lufs, analyzed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def record_failure(track_id, message):
    """Mark a claimed track failed with a short message; the file and playback are left alone. Commits."""
    db.session.rollback()
    db.session.execute(
        update(Track).where(Track.id == track_id, Track.analysis_status == "running")
        .values(analysis_status="failed", analysis_error=message[:255], analyzed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def needing_analysis(now=None):
    """Ids of tracks a worker should (re)analyse: pending, failed, or abandoned while running."""
    return db.session.scalars(select(Track.id).where(_claimable(now or utcnow())).order_by(Track.created_at)).all()


def reset(track_ids):
    """Put these tracks back to 'pending' so a new job analyses them again. Commits; returns how many."""
    ids = [uuid.UUID(str(value)) for value in track_ids]
    changed = db.session.execute(
        update(Track).where(Track.id.in_(ids)).values(analysis_status="pending", analysis_error=None)
        .execution_options(synchronize_session=False)
    ).rowcount if ids else 0
    db.session.commit()
    return changed
