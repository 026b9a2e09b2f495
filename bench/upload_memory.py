"""Memory of the gunicorn worker while it receives a 1 GiB upload: the file must stream to storage (bar: < 64 MB growth)."""
import argparse
import http.client
import statistics
import sys
import threading
import time

from common import (
    GIB, MIB, Client, Gunicorn, Instance, log, proc_status_kib, write_result, write_wav,
)

BAR_MIB = 64
SAMPLE_SECONDS = 0.1


class RssSampler(threading.Thread):
    """Reads a process's resident memory (VmRSS) every 100 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.samples.append((time.monotonic(), proc_status_kib(self.pid, "VmRSS")))
            self.halt.wait(SAMPLE_SECONDS)

    def stop(self):
        self.halt.set()
        self.join()

    def peak_mib(self):
        return max(kib for _, kib in self.samples) / 1024


def steady_rss_mib(pid, seconds=1.0):
    """The median of a second of RSS readings of an idle process."""
    readings = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        readings.append(proc_status_kib(pid, "VmRSS"))
        time.sleep(SAMPLE_SECONDS)
    return statistics.median(readings) / 1024


def upload(port, client, csrf_token, path, name, size):
    """POST a file from disk as the raw request body, 1 MiB at a time (the client never holds the file)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    try:
        connection.putrequest("POST", "/w/me/tracks")
        for header, value in (("Content-Type", "audio/wav"), ("Content-Length", str(size)),
                              ("X-CSRFToken", csrf_token), ("X-File-Name", name),
                              ("Cookie", client.cookie_header())):
            connection.putheader(header, value)
        connection.endheaders()
        with open(path, "rb") as source:
            while chunk := source.read(MIB):
                connection.send(chunk)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def ensure_room(instance, needed_bytes):
    """Give the demo user enough personal storage for the upload (set directly in the database)."""
    app = instance.app()  # first: the app's settings are read from the environment when it is imported
    from sqlalchemy import select

    from coretet.extensions import db
    from coretet.models import Profile

    with app.app_context():
        profile = db.session.scalar(select(Profile).where(Profile.email == "alex@demo.coretet.app"))
        if profile.storage_limit - profile.storage_used < needed_bytes:
            profile.storage_limit = profile.storage_used + needed_bytes
            db.session.commit()
        log(f"demo user: tier {profile.tier}, {profile.storage_used / MIB:.1f} MiB used "
            f"of {profile.storage_limit / GIB:.1f} GiB")
    return app


def stored_track(app, title):
    """(file_size, stored bytes on disk, workspace storage_used) of the uploaded track."""
    from sqlalchemy import select

    from coretet.extensions import db
    from coretet.models import Profile, Track
    from coretet.services.filestore import store_from_config

    with app.app_context():
        track = db.session.scalar(select(Track).where(Track.title == title))
        if track is None:
            return None
        used = db.session.scalar(select(Profile.storage_used).where(Profile.id == track.created_by))
        on_disk = store_from_config(app.config).size(track.storage_key)
        return track.file_size, on_disk, used


def measure(instance, app, worker_class, small, big):
    """Upload `big` to a fresh one-worker gunicorn of that class while sampling the worker's RSS."""
    size = big.stat().st_size
    title = f"bench-{worker_class}"
    # One worker; with sync its heartbeat pauses during a request, so the timeout covers the whole upload.
    with Gunicorn(instance, WEB_CONCURRENCY=1, GUNICORN_WORKER_CLASS=worker_class, GUNICORN_TIMEOUT=900) as server:
        (worker,) = server.workers()
        client = Client(server.port)
        client.sign_in()
        token = client.page_csrf_token()
        first_mib = steady_rss_mib(worker)
        # A small upload first, so one-time costs of the upload path are part of the baseline.
        status, body = upload(server.port, client, token, small, f"warmup-{worker_class}.wav", small.stat().st_size)
        if status != 200:
            raise SystemExit(f"warm-up upload answered {status}: {body[:300]}")
        baseline_mib = steady_rss_mib(worker)
        hwm_before_mib = proc_status_kib(worker, "VmHWM") / 1024

        sampler = RssSampler(worker)
        sampler.start()
        started = time.monotonic()
        status, body = upload(server.port, client, token, big, f"{title}.wav", size)
        seconds = time.monotonic() - started
        time.sleep(0.5)
        sampler.stop()
        hwm_after_mib = proc_status_kib(worker, "VmHWM") / 1024
        if status != 200:
            raise SystemExit(f"upload answered {status}: {body[:300]}\n{server.log_tail()}")

    stored = stored_track(app, title)
    if stored is None or stored[0] != size or stored[1] != size:
        raise SystemExit(f"the stored track does not match the upload: {stored}")
    peak_mib = sampler.peak_mib()
    growth = peak_mib - baseline_mib
    log(f"{worker_class} worker RSS: {first_mib:.1f} MiB after sign-in, {baseline_mib:.1f} MiB after a "
        f"1 MiB warm-up upload, peak {peak_mib:.1f} MiB during the {size / GIB:.2f} GiB upload "
        f"({len(sampler.samples)} samples every {SAMPLE_SECONDS * 1000:.0f} ms)")
    log(f"  kernel peak (VmHWM): {hwm_before_mib:.1f} MiB before, {hwm_after_mib:.1f} MiB after")
    log(f"  growth: {growth:.1f} MiB (bar < {BAR_MIB} MB); upload took {seconds:.1f} s "
        f"({size / MIB / seconds:.0f} MiB/s); stored {stored[0]} bytes, workspace usage {stored[2] / GIB:.3f} GiB")
    return {"after_sign_in": round(first_mib, 1), "baseline": round(baseline_mib, 1), "peak": round(peak_mib, 1),
            "growth": round(growth, 1), "vmhwm_before": round(hwm_before_mib, 1),
            "vmhwm_after": round(hwm_after_mib, 1), "samples": len(sampler.samples),
            "upload_seconds": round(seconds, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024, help="audio data to upload, MiB (default 1024)")
    parser.add_argument("--worker-class", action="append", choices=("sync", "gthread"),
                        help="gunicorn worker class to measure; repeatable (default: sync, then gthread, "
                             "the default of deploy/gunicorn.conf.py)")
    args = parser.parse_args()
    classes = args.worker_class or ["sync", "gthread"]
    data_bytes = args.size_mib * MIB

    with Instance(MAX_UPLOAD_BYTES=2 * GIB) as instance:
        log(f"throwaway instance in {instance.dir}")
        instance.setup()
        app = ensure_room(instance, len(classes) * (data_bytes + 64 * MIB))
        big = write_wav(instance.dir / "big.wav", data_bytes)
        small = write_wav(instance.dir / "small.wav", MIB)
        size = big.stat().st_size
        log(f"generated {big.name}: {size / GIB:.3f} GiB")
        runs = {worker_class: measure(instance, app, worker_class, small, big) for worker_class in classes}

    worst = max(run["growth"] for run in runs.values())
    met = worst < BAR_MIB
    log(f"largest growth: {worst:.1f} MiB (bar < {BAR_MIB} MB) -> {'met' if met else 'NOT met'}")
    figure = "; ".join(f"+{run['growth']:.1f} MiB ({run['baseline']:.0f} → {run['peak']:.0f} MiB) with 1 "
                       f"{worker_class} worker" for worker_class, run in runs.items())
    write_result("upload_memory", {
        "bar": f"a 1 GB upload raises server memory by < {BAR_MIB} MB",
        "command": ".venv/bin/python bench/upload_memory.py",
        "figure": f"{figure}, {size / GIB:.2f} GiB upload",
        "met": met,
        "note": "" if met else "the worker's memory grew with the file: the body is held in memory somewhere",
        "upload_bytes": size,
        "rss_mib": runs,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
