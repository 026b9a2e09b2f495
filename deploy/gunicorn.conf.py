"""Gunicorn settings for CoreTet (`gunicorn -c deploy/gunicorn.conf.py app:app`); each one can be overridden by environment variable."""
import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where gunicorn listens; nginx proxies here (a socket path such as "unix:/run/coretet/web.sock" works too).
bind = os.environ.get("CORETET_BIND", "127.0.0.1:8000")

# Processes: 2 × cores + 1 is gunicorn's rule of thumb for an app that mostly waits on the database.
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)

# gthread keeps each process's heartbeat loop apart from its request threads, so a request that
# runs for minutes (a 500 MB upload from a phone on a slow uplink) is never killed by `timeout`.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")

# Requests one process serves at once; uploads and downloads mostly wait on sockets, not the GIL.
threads = _int("GUNICORN_THREADS", 4)

# Seconds a process may go without a heartbeat before it is killed and replaced. With gthread this
# guards against a hung process only, so 30 s is right. With GUNICORN_WORKER_CLASS=sync the heartbeat
# stops during a request, so it would have to cover the slowest upload (size ÷ slowest client rate).
timeout = _int("GUNICORN_TIMEOUT", 30)

# Seconds in-flight requests get to finish after SIGTERM/SIGHUP before their process is killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)

# Seconds an idle connection from nginx stays open; longer than nginx's upstream keepalive_timeout
# (60 s in deploy/nginx.conf) so gunicorn never closes a connection nginx is about to reuse.
keepalive = _int("GUNICORN_KEEPALIVE", 65)

# Open connections per gthread process (active + kept alive); the kept-alive ones cost no thread.
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", 1000)

# Replace a process after this many requests (± jitter, so they do not all restart at once): bounds slow leaks.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Each process builds its own app and database pool after the fork, so no connection is shared across processes.
preload_app = False

# Heartbeat files on tmpfs: a slow or full disk must not make healthy processes look hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Only nginx on this machine may set X-Forwarded-Proto; the app's ProxyFix (TRUSTED_PROXIES=1) reads the rest.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs to stdout/stderr, which systemd's journal (or the platform running the Procfile) collects;
# GUNICORN_ACCESSLOG= (empty) turns the access log off, e.g. when nginx's log is enough.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# Access log line with the client address from nginx and the time taken in milliseconds (%(M)s).
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'

# The name shown by ps and top, so the web processes are easy to tell from the RQ worker.
proc_name = "coretet-web"
