"""Worker analysis (SPEC §9): loudness of tones of known level, peaks that follow the envelope, every
format, corrupt files, and a job that runs once however often it is queued."""
import io
import subprocess
import threading
import uuid
from datetime import timedelta

import numpy as np
import pyloudnorm
import pytest
import soundfile
from sqlalchemy import select

from coretet.extensions import db
from coretet.jobs import get_queue, make_worker
from coretet.models import Track, utcnow
from coretet.services import analysis
from coretet.services.filestore import store_from_config
from coretet.tasks import analyze_track
from tests.auth_helpers import sign_in
from tests.conftest import build_app, empty_database
from tests.factories import make_profile, make_track
from tests.test_audio import FFMPEG, require_ffmpeg
from tests.test_tracks import upload

RATE = 48000


def sine(seconds, rms_dbfs, channels=1, freq=997.0, rate=RATE):
    """A sine whose RMS is rms_dbfs (peak = RMS * sqrt 2), the same in every channel."""
    t = np.arange(int(seconds * rate)) / rate
    wave = np.sqrt(2) * 10 ** (rms_dbfs / 20) * np.sin(2 * np.pi * freq * t)
    return np.repeat(wave[:, None], channels, axis=1).astype(np.float32)


def write(tmp_path, signal, name="tone.wav", rate=RATE, subtype="FLOAT"):
    path = tmp_path / name
    soundfile.write(str(path), signal, rate, subtype=subtype)
    return path


def lufs_of(path):
    return analysis.analyse(path).loudness_lufs


# BS.1770-4: L = -0.691 + 10 log10(sum_i G_i z_i), with z_i the mean square of the K-weighted channel.
# The K-weighting gain at 997 Hz is +0.691 dB, which the constant cancels, so a 997 Hz sine whose RMS
# is R dBFS measures R LUFS in one channel, and R + 10 log10(2) = R + 3.01 LUFS in two identical ones.
@pytest.mark.parametrize("channels,expected", [(1, -20.0), (2, -20.0 + 3.01)])
def test_a_997_hz_tone_at_minus_20_dbfs_rms_measures_its_textbook_loudness(tmp_path, channels, expected):
    measured = lufs_of(write(tmp_path, sine(10, -20.0, channels)))
    assert abs(measured - expected) <= 0.5, f"{channels} channel(s): {measured} LUFS, expected {expected}"
    assert abs(measured - expected) <= 0.1  # in fact much closer than the bar


def test_tones_6_db_apart_measure_6_lu_apart(tmp_path):
    loud = lufs_of(write(tmp_path, sine(8, -14.0, 2, freq=440), "loud.wav"))
    quiet = lufs_of(write(tmp_path, sine(8, -20.0, 2, freq=440), "quiet.wav"))
    assert abs((loud - quiet) - 6.0) <= 0.5


def test_blockwise_loudness_matches_pyloudnorm_on_the_whole_signal(tmp_path):
    """Gating included: a song-like signal with loud and quiet parts and a silent gap."""
    rng = np.random.default_rng(7)
    t = np.arange(RATE * 25) / RATE
    left = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(0.7 * t))
    right = 0.15 * rng.standard_normal(len(t)) * ((t % 5) > 2)
    signal = np.stack([left, right], axis=1)
    signal[RATE * 10:RATE * 13] = 0.0
    path = write(tmp_path, signal.astype(np.float32))
    expected = pyloudnorm.Meter(RATE).integrated_loudness(soundfile.read(str(path))[0])
    assert abs(lufs_of(path) - expected) < 0.05


def test_silence_has_no_loudness_and_flat_peaks(tmp_path):
    result = analysis.analyse(write(tmp_path, np.zeros((RATE * 3, 2), dtype=np.float32)))
    assert result.loudness_lufs is None
    assert len(result.peaks) == analysis.PEAK_POINTS and max(result.peaks) == 0.0


def test_peaks_of_a_rising_ramp_rise_with_it(tmp_path):
    t = np.arange(RATE * 4) / RATE
    ramp = (0.8 * t / t[-1]) * np.sin(2 * np.pi * 440 * t)
    peaks = analysis.analyse(write(tmp_path, ramp.astype(np.float32))).peaks
    assert len(peaks) == analysis.PEAK_POINTS
    assert all(later >= earlier - 0.01 for earlier, later in zip(peaks, peaks[1:]))
    assert peaks[0] < 0.01 and abs(peaks[-1] - 0.8) < 0.01
    assert abs(peaks[len(peaks) // 2] - 0.4) < 0.01


def test_peaks_of_silence_then_a_tone_are_zero_then_its_amplitude(tmp_path):
    half = RATE * 2
    signal = np.zeros(2 * half, dtype=np.float32)
    signal[half:] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(half) / RATE)
    peaks = analysis.analyse(write(tmp_path, signal)).peaks
    first, second = peaks[:195], peaks[205:]
    assert max(first) < 0.001
    assert all(abs(peak - 0.5) < 0.02 for peak in second)


def test_a_file_shorter_than_the_peak_count_still_gets_peaks(tmp_path):
    result = analysis.analyse(write(tmp_path, sine(0.01, -10.0)))
    assert 0 < len(result.peaks) <= analysis.PEAK_POINTS
    assert result.loudness_lufs is None  # under 400 ms: too short to gate


@pytest.mark.parametrize("kind,args", [("mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
                                       ("m4a", ["-c:a", "aac", "-b:a", "192k"])])
def test_compressed_formats_measure_like_the_wav_they_came_from(tmp_path, kind, args):
    require_ffmpeg()
    wav = write(tmp_path, sine(10, -18.0, 2, freq=440, rate=44100), rate=44100, subtype="PCM_16")
    encoded = tmp_path / f"tone.{kind}"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(wav), *args, str(encoded)], check=True)
    reference, result = analysis.analyse(wav), analysis.analyse(encoded)
    assert abs(result.loudness_lufs - reference.loudness_lufs) <= 0.5
    assert abs(result.seconds - 10) < 0.2 and result.channels == 2
    assert len(result.peaks) == analysis.PEAK_POINTS


def test_m4a_goes_through_ffmpeg_and_needs_it(tmp_path):
    require_ffmpeg()
    wav = write(tmp_path, sine(2, -18.0), subtype="PCM_16")
    m4a = tmp_path / "tone.m4a"
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", str(m4a)], check=True)
    with pytest.raises(RuntimeError):
        soundfile.SoundFile(str(m4a))  # libsndfile can't read it, so ffmpeg must have
    assert analysis.analyse(m4a).loudness_lufs is not None
    with pytest.raises(analysis.AnalysisError) as refused:
        analysis.analyse(m4a, ffmpeg="")
    assert refused.value.message == analysis.NO_FFMPEG


def test_a_hung_decoder_is_stopped_by_the_timeout(tmp_path):
    hang = tmp_path / "fake-ffmpeg"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")
    hang.chmod(0o755)
    garbage = tmp_path / "song.m4a"
    garbage.write_bytes(b"\0" * 4096)
    with pytest.raises(analysis.AnalysisError) as refused:
        analysis.analyse(garbage, ffmpeg=str(hang), timeout=0.5)
    assert refused.value.message == analysis.TOO_SLOW


# --- the job, through the app --------------------------------------------------------------------------------


def wav_bytes(signal, rate=RATE):
    buffer = io.BytesIO()
    soundfile.write(buffer, signal, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def stored_track(app, owner, data, content_type="audio/wav", **fields):
    """A track row whose stored file holds `data`."""
    track = Track(title="Take", storage_key=f"test/{uuid.uuid4().hex}", file_size=len(data),
                  duration_seconds=2.0, content_type=content_type, created_by=owner.id, **fields)
    store_from_config(app.config).save(track.storage_key, io.BytesIO(data))
    db.session.add(track)
    db.session.commit()
    return track


def reload(track):
    db.session.expire_all()
    return db.session.get(Track, track.id)


def test_an_upload_is_analysed_after_its_commit(app, client):
    make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    assert upload(client, body=wav_bytes(sine(3, -20.0, 2))).status_code == 200
    track = db.session.scalar(select(Track))
    assert track.analysis_status == "done" and track.analysis_error is None
    assert len(track.waveform_peaks) == analysis.PEAK_POINTS
    assert abs(track.loudness_lufs - (-20.0 + 3.01)) < 0.3  # 16-bit rounding costs nothing at this level
    assert track.analyzed_at is not None


def test_a_corrupt_file_fails_with_a_message_and_still_plays(app, client):
    owner = make_profile(email="alex@example.com")
    garbage = b"ID3" + bytes(range(256)) * 40
    track = stored_track(app, owner, garbage, content_type="audio/mpeg")
    analyze_track(str(track.id))
    track = reload(track)
    assert track.analysis_status == "failed" and track.analysis_error == analysis.UNDECODABLE
    assert track.waveform_peaks is None and track.loudness_lufs is None
    sign_in(client, "alex@example.com")
    response = client.get(f"/w/me/tracks/{track.id}/stream")
    assert response.status_code == 200 and response.data == garbage
    page = client.get(f"/w/me/tracks/{track.id}").get_data(as_text=True)
    assert "Analysis failed: The file could not be decoded as audio." in page and 'id="track-audio"' in page


def test_a_missing_file_fails_without_touching_the_row_otherwise(app):
    owner = make_profile()
    track = make_track(owner)  # no stored file
    analyze_track(str(track.id))
    track = reload(track)
    assert (track.analysis_status, track.analysis_error) == ("failed", analysis.MISSING)
    assert track.storage_key.startswith("test/") and track.file_size == 1000


def test_the_job_run_twice_analyses_once(app):
    track = stored_track(app, make_profile(), wav_bytes(sine(2, -20.0)))
    analyze_track(str(track.id))
    first = reload(track)
    done_at, peaks = first.analyzed_at, first.waveform_peaks
    assert first.analysis_status == "done"
    analyze_track(str(track.id))
    second = reload(track)
    assert second.analyzed_at == done_at and second.waveform_peaks == peaks


def test_a_run_after_a_crash_mid_way_finishes_the_job(app):
    track = stored_track(app, make_profile(), wav_bytes(sine(2, -20.0)))
    # A worker claimed it and died: the row says running, and has said so for an hour.
    track.analysis_status, track.updated_at = "running", utcnow() - timedelta(hours=1)
    db.session.commit()
    analyze_track(str(track.id))
    assert reload(track).analysis_status == "done"


def test_a_fresh_claim_is_left_to_the_worker_that_holds_it(app):
    track = stored_track(app, make_profile(), wav_bytes(sine(2, -20.0)))
    track.analysis_status = "running"
    db.session.commit()
    analyze_track(str(track.id))
    assert reload(track).analysis_status == "running" and reload(track).analyzed_at is None


def test_a_failed_track_is_tried_again_by_a_new_job(app):
    track = stored_track(app, make_profile(), wav_bytes(sine(2, -20.0)))
    track.analysis_status, track.analysis_error = "failed", "old failure"
    db.session.commit()
    analyze_track(str(track.id))
    track = reload(track)
    assert track.analysis_status == "done" and track.analysis_error is None


def test_a_job_for_a_deleted_track_does_nothing(app):
    analyze_track(str(uuid.uuid4()))


def test_concurrent_claims_let_exactly_one_worker_in(pg_app, race_app):
    track_id = stored_track(pg_app, make_profile(), wav_bytes(sine(1, -20.0))).id
    barrier, wins = threading.Barrier(8, timeout=30), []

    def claim():
        with race_app.app_context():
            barrier.wait()
            wins.append(analysis.claim(track_id))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(wins) == [False] * 7 + [True]


def test_the_cli_requeues_pending_and_failed_tracks(app, runner):
    owner = make_profile()
    pending = stored_track(app, owner, wav_bytes(sine(1, -20.0)))
    failed = stored_track(app, owner, wav_bytes(sine(1, -26.0)), analysis_status="failed", analysis_error="x")
    result = runner.invoke(args=["tracks", "analyze", "--all-pending"])
    assert result.exit_code == 0 and "Queued analysis of 2 tracks" in result.output
    assert reload(pending).analysis_status == reload(failed).analysis_status == "done"
    again = runner.invoke(args=["tracks", "analyze", str(pending.id)])  # named tracks are done again
    assert again.exit_code == 0 and "Queued analysis of 1 track." in again.output
    assert reload(pending).analysis_status == "done"
    assert runner.invoke(args=["tracks", "analyze"]).exit_code != 0


@pytest.fixture
def rq_app(postgres_url, redis_url, tmp_path):
    app = build_app(postgres_url, tmp_path, redis_url=redis_url)
    with app.app_context():
        get_queue("analysis").empty()
        yield app
    empty_database(app)


def test_with_redis_an_upload_queues_its_analysis_for_the_worker(rq_app):
    client = rq_app.test_client()
    make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    assert upload(client, body=wav_bytes(sine(2, -20.0))).status_code == 200
    track = db.session.scalar(select(Track))
    queue = get_queue("analysis")
    assert track.analysis_status == "pending" and queue.count == 1
    assert queue.jobs[0].args == (str(track.id),)
    assert "analysis" in rq_app.config["RQ_QUEUES"]
    make_worker(rq_app, simple=True).work(burst=True)
    assert reload(track).analysis_status == "done"


# --- the status fragment ---------------------------------------------------------------------------------------


def fragment(client, track):
    return client.get(f"/w/me/tracks/{track.id}/analysis", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_the_status_fragment_polls_while_pending_and_stops_when_done(app, client):
    owner = make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    track = stored_track(app, owner, wav_bytes(sine(2, -20.0)))
    pending = fragment(client, track)
    assert "Analysing" in pending and 'hx-trigger="every 2s"' in pending and 'class="waveform"' not in pending
    analyze_track(str(track.id))
    done = fragment(client, track)
    assert "hx-trigger" not in done and "Analysing" not in done
    assert 'class="waveform"' in done and "data-peaks='[" in done and "LUFS" in done
    page = client.get(f"/w/me/tracks/{track.id}").get_data(as_text=True)
    assert 'class="waveform"' in page and 'hx-trigger="every 2s"' not in page


def test_the_status_fragment_stops_polling_on_failure_and_says_silent_for_silence(app, client):
    owner = make_profile(email="alex@example.com")
    sign_in(client, "alex@example.com")
    broken = stored_track(app, owner, b"\0" * 3000)
    silent = stored_track(app, owner, wav_bytes(np.zeros(RATE, dtype=np.float32)))
    for track in (broken, silent):
        analyze_track(str(track.id))
    failed = fragment(client, broken)
    assert "Analysis failed:" in failed and "hx-trigger" not in failed
    quiet = fragment(client, silent)
    assert "Silent" in quiet and "hx-trigger" not in quiet
