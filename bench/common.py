"""Shared pieces of the benchmarks: a throwaway CoreTet instance, gunicorn, sign-in, /proc readings and results."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
DEMO_EMAIL = "alex@demo.coretet.app"
DEMO_PASSWORD = "coretet-demo-2026"
MIB = 1024 * 1024
GIB = 1024 * MIB
# Taken when the benchmark starts: other work on the machine skews throughput figures.
START_LOAD = os.getloadavg()[0]


def log(message):
    print(message, flush=True)


def require_commands(commands):
    """Make sure each command exists, installing its Debian package (apt-get) when it does not.

    `commands` maps a command name to the package that provides it.
    """
    missing = {command: package for command, package in commands.items() if shutil.which(command) is None}
    if not missing:
        return
    packages = sorted(set(missing.values()))
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        sys.exit(f"Missing {', '.join(missing)}: install the Debian package(s) {' '.join(packages)} "
                 "(apt-get install needs root), then run again.")
    log(f"Installing {' '.join(packages)} with apt-get ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([apt, "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run([apt, "install", "-y", "-qq", "--no-install-recommends", *packages],
                   check=True, env=env, timeout=900)
    still = [command for command in missing if shutil.which(command) is None]
    if still:
        sys.exit(f"apt-get installed {' '.join(packages)} but {', '.join(still)} is still not on PATH.")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, seconds=30):
    """Wait until something accepts connections on 127.0.0.1:port; fail if `process` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {seconds} s")


def spawn(args, env, log_path):
    """Start a child in its own process group (output to log_path), so stop() can end it with everything it forked."""
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    process.own_group = True
    return process


def stop(process, seconds=15):
    """Stop a child we started: SIGTERM, then SIGKILL if it has not exited in time.

    A child from spawn() leads its own process group; the whole group is signalled, and killed at
    the end, so no worker it forked outlives it.
    """
    if process is None:
        return
    group = process.pid if getattr(process, "own_group", False) else None
    if process.poll() is None:
        _signal(process, group, signal.SIGTERM)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            _signal(process, group, signal.SIGKILL)
            process.wait(5)
    if group is not None:
        _signal(process, group, signal.SIGKILL)


def _signal(process, group, signum):
    try:
        if group is None:
            process.send_signal(signum)
        else:
            os.killpg(group, signum)
    except ProcessLookupError:
        pass


class Instance:
    """A throwaway CoreTet: its own SQLite database, instance folder and storage, migrated and seeded."""

    def __init__(self, **extra_env):
        self.dir = Path(tempfile.mkdtemp(prefix="coretet-bench-"))
        # nginx's worker processes run unprivileged and must be able to read the stored audio.
        self.dir.chmod(0o755)
        self.storage = self.dir / "media"
        self.database = self.dir / "coretet.db"
        env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "FLASK_APP")}
        env.update(
            CORETET_ENV="development",
            CORETET_INSTANCE=str(self.dir),
            DATABASE_URL=f"sqlite:///{self.database}",
            STORAGE_DIR=str(self.storage),
            OUTBOX_DIR=str(self.dir / "outbox"),
            PYTHONUNBUFFERED="1",
        )
        env.update({key: str(value) for key, value in extra_env.items()})
        self.env = env

    def flask(self, *args):
        """Run a `flask` command against this instance; returns its output."""
        result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def setup(self):
        self.flask("db", "upgrade")
        self.flask("seed-demo")
        return self

    def app(self):
        """The Flask app of this instance, in this process (settings are read from the environment once)."""
        os.environ.update(self.env)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from coretet import create_app

        return create_app()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Gunicorn:
    """gunicorn with deploy/gunicorn.conf.py on 127.0.0.1, as a child process; settings by environment.

    `instance` is anything with `env` (the app's environment) and `dir` (where the log goes): an
    Instance here, or the PostgreSQL + Redis server of the browser tests (tests/e2e/servers.py).
    """

    app_spec = ["app:app"]
    log_name = "gunicorn.log"

    def __init__(self, instance, **settings):
        self.port = free_port()
        self.env = dict(instance.env, CORETET_BIND=f"127.0.0.1:{self.port}", GUNICORN_ACCESSLOG="")
        self.env.update({key: str(value) for key, value in settings.items()})
        self.log_path = instance.dir / self.log_name
        self.process = None

    def __enter__(self):
        self.process = spawn([str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), *self.app_spec],
                             self.env, self.log_path)
        try:
            wait_for_port(self.port, self.process)
            self._wait_for_workers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        stop(self.process, seconds=35)

    def _wait_for_workers(self, seconds=30):
        # The same default as deploy/gunicorn.conf.py when WEB_CONCURRENCY is not set.
        expected = int(self.env.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
        deadline = time.monotonic() + seconds
        while len(self.workers()) < expected and time.monotonic() < deadline:
            time.sleep(0.1)

    def workers(self):
        """Process ids of the worker processes: the children of the gunicorn master."""
        return children(self.process.pid)

    def log_tail(self, lines=20):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def children(parent_pid):
    """Ids of the processes whose parent is parent_pid (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces; the parent id follows it.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == parent_pid:
            found.append(int(entry.name))
    return sorted(found)


def proc_status_kib(pid, field):
    """A memory figure (VmRSS, VmHWM, ...) of a process from /proc/<pid>/status, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class Client:
    """A tiny HTTP client for 127.0.0.1 that keeps cookies, enough to sign in and fetch pages."""

    def __init__(self, port, timeout=60):
        self.port, self.timeout = port, timeout
        self.cookies = {}

    def cookie_header(self):
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method, path, body=None, headers=None):
        """One request on a fresh connection; returns (status, headers, body bytes)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            headers = dict(headers or {})
            if self.cookies:
                headers["Cookie"] = self.cookie_header()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            self.remember(response.headers.get_all("Set-Cookie") or [])
            return response.status, response.headers, data
        finally:
            connection.close()

    def remember(self, set_cookie_headers):
        for header in set_cookie_headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def sign_in(self, email=DEMO_EMAIL, password=DEMO_PASSWORD):
        """Sign in through the real login form (CSRF token included)."""
        _, _, page = self.request("GET", "/login")
        token = form_csrf_token(page)
        form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
        status, _, _ = self.request(
            "POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"sign-in as {email} answered {status}, expected a redirect")

    def page_csrf_token(self, path="/w/me"):
        """The CSRF token a signed-in page carries in <meta name="csrf-token">."""
        status, _, page = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        match = re.search(rb'<meta name="csrf-token" content="([^"]+)"', page)
        if not match:
            raise RuntimeError(f"no csrf-token meta tag on {path}")
        return match.group(1).decode()


def form_csrf_token(page):
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', page)
    if not match:
        raise RuntimeError("no csrf_token field in the form")
    return match.group(1).decode()


def wav_header(data_bytes, channels=2, rate=44100, bits=16):
    """A 44-byte PCM WAV header announcing data_bytes of samples."""
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits)
            + b"data" + struct.pack("<I", data_bytes))


def write_wav(path, data_bytes):
    """Write a valid WAV file of data_bytes of audio to disk, 1 MiB at a time (a quiet repeating tone)."""
    period = 100  # samples per cycle: 441 Hz at 44.1 kHz
    cycle = b"".join(struct.pack("<hh", value, value) for value in
                     (int(3000 * (1 - abs(2 * i / period - 1) * 2)) for i in range(period)))
    block = (cycle * (MIB // len(cycle) + 1))[:MIB]
    with open(path, "wb") as out:
        out.write(wav_header(data_bytes))
        left = data_bytes
        while left:
            piece = block[:min(left, MIB)]
            out.write(piece)
            left -= len(piece)
    return path


def machine():
    """What the figures were measured on: cores, memory, CPU model, and how busy it was when the run began."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = " ".join(line.split(":", 1)[1].split())
                break
    ram_gib = proc_meminfo_kib("MemTotal") / MIB
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(ram_gib, 1), "load_at_start": round(START_LOAD, 2),
            "label": f"{os.cpu_count()} cores ({model}), {ram_gib:.1f} GiB RAM, 1-min load {START_LOAD:.1f} at start"}


def proc_meminfo_kib(field):
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def write_result(name, result):
    """Save a benchmark's result as bench/results/<name>.json (with date and machine) and return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": machine(), **result}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    log(f"result written to {path.relative_to(ROOT)}")
    return path
