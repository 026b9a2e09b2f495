"""The stack the browser tests talk to: gunicorn and a real worker.py on 127.0.0.1, PostgreSQL and Redis.

The gunicorn process handling (own process group, bounded waits, stop) is the benchmarks' own,
from bench/common.py, so the two never drift apart.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.common import Gunicorn, spawn, stop

ROOT = Path(__file__).resolve().parents[2]
# Screenshots, and the traces and server logs of failed journeys (git ignores test-artifacts/).
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SCREENSHOTS = ARTIFACTS / "screenshots"
BIN = Path(sys.executable).parent
# Redis databases: the test suite uses 15 and the benchmarks 14; the browser tests keep to 13.
REDIS_DB = int(os.environ.get("E2E_REDIS_DB", "13"))  # another number lets two runs share a server
# Only what a process needs to run; every CoreTet setting is set below, none leaks in from the shell.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV")


def redis_db_url(server_url, number=REDIS_DB):
    """The same Redis server as server_url, database `number`."""
    base = server_url.rsplit("/", 1)[0] if server_url.count("/") > 2 else server_url.rstrip("/")
    return f"{base}/{number}"


class Stack:
    """CoreTet as deployed, on one machine: gunicorn (deploy/gunicorn.conf.py) plus worker.py.

    `workdir` holds storage and the outbox; `logdir` the two processes' logs (kept for failures).
    """

    def __init__(self, database_url, redis_url, workdir, logdir, extra_env=None):
        self.database_url = database_url
        self.redis_url = redis_url
        self.dir = Path(logdir)  # where Gunicorn writes gunicorn.log
        self.dir.mkdir(parents=True, exist_ok=True)
        workdir = Path(workdir)
        self.env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        self.env.update(
            CORETET_ENV="development",  # registers /dev/outbox, where the tests read texts and emails
            CORETET_INSTANCE=str(workdir),
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            STORAGE_BACKEND="local",
            STORAGE_DIR=str(workdir / "media"),
            OUTBOX_DIR=str(workdir / "outbox"),
            SMS_BACKEND="outbox",
            EMAIL_BACKEND="outbox",
            VERIFY_BACKEND="local",
            PYTHONUNBUFFERED="1",
            **(extra_env or {}),
        )
        self.web = None
        self.worker = None
        self._engine = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.web.port}"

    def flask(self, *args):
        """Run a `flask` command against this stack's database; returns its output."""
        result = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, before_serving=None):
        """Migrate, empty Redis db 13, start gunicorn and the worker; stops everything if any step fails.

        before_serving(base_url) may return more settings (e.g. a fake Stripe that needs the app's address).
        """
        self.flask("db", "upgrade")
        Redis.from_url(self.redis_url).flushdb()
        # Two processes of four threads: enough for a page, its htmx calls and streaming audio at once.
        self.web = Gunicorn(self, WEB_CONCURRENCY=2, GUNICORN_THREADS=4, GUNICORN_ACCESSLOG="-")
        self.env["APP_BASE_URL"] = self.base_url  # texted links point at this server
        if before_serving:
            self.env.update(before_serving(self.base_url) or {})
        self.web.env.update(self.env, CORETET_BIND=f"127.0.0.1:{self.web.port}")
        try:
            self.web.__enter__()
            self.worker = spawn([sys.executable, "worker.py"], self.env, self.dir / "worker.log")
            self._wait_for_worker()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_worker(self, seconds=30):
        """Wait until worker.py has registered with Redis; fail if it exits first."""
        from rq import Worker

        connection = Redis.from_url(self.redis_url)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(f"worker.py exited with code {self.worker.returncode}:\n{self.log_tail('worker.log')}")
            if Worker.count(connection=connection):
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker.py did not register within {seconds} s:\n{self.log_tail('worker.log')}")

    def stop(self):
        stop(self.worker, seconds=15)
        if self.web is not None and self.web.process is not None:
            self.web.__exit__(None, None, None)
        if self._engine is not None:
            self._engine.dispose()

    def log_tail(self, name, lines=30):
        path = self.dir / name
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def sql(self, statement, **params):
        """Run one statement on the app's database (for set-ups the UI cannot reach, e.g. a tier)."""
        if self._engine is None:
            url = self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
            self._engine = create_engine(url, poolclass=NullPool)
        with self._engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else result.rowcount
