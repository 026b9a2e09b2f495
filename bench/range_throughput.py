"""Authorised range requests through the app (nginx + gunicorn + X-Accel-Redirect) vs nginx serving the same file directly (bar: ≥ 90 %)."""
import argparse
import http.client
import os
import pwd
import re
import subprocess
import sys

from common import (
    MIB, ROOT, Client, Gunicorn, Instance, free_port, log, require_commands, stop, wait_for_port,
    write_result, write_wav,
)

BAR = 0.90
DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
DIRECT = "/_bench_direct/"
UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}
TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def substitute(text, pattern, replacement):
    """re.sub on whole lines that must exist: if deploy/nginx.conf changes shape, fail loudly."""
    result, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count == 0:
        raise SystemExit(f"deploy/nginx.conf no longer has a line matching {pattern!r}; update {__file__}")
    return result


def render_site(nginx_port, app_port, storage_dir):
    """deploy/nginx.conf with this machine's paths and ports, plus a public copy of /_media/ for the direct run."""
    site = DEPLOY_CONF.read_text()
    site = substitute(site, r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{nginx_port};")
    site = substitute(site, r"^\s*listen \[::\]:80;\n", "")
    site = substitute(site, r"^(\s*)server 127\.0\.0\.1:8000;$", rf"\g<1>server 127.0.0.1:{app_port};")
    site = substitute(site, r"/srv/coretet/media/", f"{storage_dir}/")
    site = substitute(site, r"/srv/coretet/app/", f"{ROOT}/")
    media = re.search(r"^    location \^~ /_media/ \{\n.*?^    \}\n", site, flags=re.MULTILINE | re.DOTALL)
    if media is None:
        raise SystemExit("deploy/nginx.conf has no `location ^~ /_media/` block")
    # The same directives as the X-Accel location, minus `internal`, so only the authorisation differs.
    direct = media.group(0).replace("location ^~ /_media/", f"location ^~ {DIRECT}")
    direct = re.sub(r"^\s*internal;\n", "", direct, flags=re.MULTILINE)
    return site[:media.end()] + "\n" + direct + site[media.end():]


def nginx_main_conf(workdir, site):
    """A whole nginx.conf around the site: paths inside workdir, no daemon, no access log on either path."""
    user = ""
    if os.geteuid() == 0:
        # As in production, the worker processes read the audio as an unprivileged user.
        user = "user www-data;" if _user_exists("www-data") else "user nobody;"
    temp = {name: workdir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    return f"""
{user}
daemon off;
worker_processes auto;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {temp['client_body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
{site}
}}
"""


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def add_track(app, storage_dir, size):
    """A WAV file in storage and its track row in the demo user's personal workspace; returns (id, key, path)."""
    from sqlalchemy import select

    from coretet.extensions import db
    from coretet.models import Profile, Track
    from coretet.services.filestore import new_key

    key = new_key()
    path = storage_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, size - 44)
    with app.app_context():
        owner = db.session.scalar(select(Profile).where(Profile.email == "alex@demo.coretet.app"))
        track = Track(title="Range bench", storage_key=key, file_size=path.stat().st_size,
                      duration_seconds=(size - 44) / 176400, content_type="audio/wav", created_by=owner.id)
        db.session.add(track)
        db.session.commit()
        return track.id.hex, key, path


def check(name, ok, detail, checks):
    checks[name] = {"ok": bool(ok), "detail": detail}
    log(f"  {'ok ' if ok else 'BAD'} {name}: {detail}")


def correctness(port, app_client, stream_path, key, path, checks):
    """The production setup answers correctly before it is timed."""
    expected = path.read_bytes()[:MIB]
    anonymous = Client(port)
    status, headers, body = app_client.request("GET", stream_path, headers={"Range": f"bytes=0-{MIB - 1}"})
    check("authorised range via app", status == 206 and body == expected,
          f"{status}, {headers.get('Content-Range')}, {len(body)} bytes, Content-Type {headers.get('Content-Type')}, "
          f"Cache-Control {headers.get('Cache-Control')}", checks)
    status, headers, _ = app_client.request("GET", stream_path, headers={"Range": "bytes=0-1"})
    check("first two bytes (what iOS asks first)", status == 206 and headers.get("Content-Range", "").startswith(
        "bytes 0-1/"), f"{status}, {headers.get('Content-Range')}", checks)
    status, headers, _ = app_client.request("GET", stream_path, headers={"Range": f"bytes={path.stat().st_size}-"})
    check("range past the end -> 416", status == 416, f"{status}", checks)
    status, headers, _ = anonymous.request("GET", stream_path, headers={"Range": f"bytes=0-{MIB - 1}"})
    check("no session -> no audio", status in (302, 401, 404), f"{status} {headers.get('Location', '')}", checks)
    status, _, _ = anonymous.request("GET", f"/_media/{key}")
    check("/_media/ is internal", status == 404, f"{status}", checks)
    status, _, body = anonymous.request("GET", f"{DIRECT}{key}", headers={"Range": f"bytes=0-{MIB - 1}"})
    check("direct nginx range", status == 206 and body == expected, f"{status}, {len(body)} bytes", checks)
    status, headers, _ = anonymous.request("GET", "/static/css/app.css")
    check("static file from nginx", status == 200 and "max-age=86400" in headers.get("Cache-Control", ""),
          f"{status}, Cache-Control {headers.get('Cache-Control')}", checks)
    check("upload over the nginx body limit -> 413", *oversized_upload(port), checks)
    statuses = [anonymous.request("GET", "/listen/bench")[0] for _ in range(60)]
    check("rate limit in front of /listen/", 429 in statuses,
          f"{statuses.count(429)} of 60 quick requests refused with 429", checks)


def oversized_upload(port):
    """Announce a 600 MiB body without sending it: nginx must refuse from the headers alone."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/w/me/tracks")
        connection.putheader("Content-Length", str(600 * MIB))
        connection.endheaders()
        response = connection.getresponse()
        text = response.read().decode(errors="replace").strip()
        return response.status == 413, f"{response.status} {text!r}"
    finally:
        connection.close()


def wrk(url, seconds, connections, headers=()):
    """Run wrk against url; returns requests/s, MiB/s, bytes per response, latency and error counts."""
    command = ["wrk", "-t", str(min(connections, os.cpu_count() or 1)), "-c", str(connections),
               "-d", f"{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60,
                            check=True).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)(\w+) read", output)
    requests, duration = int(total.group(1)), float(total.group(2)) * TIME_UNITS[total.group(3)] / 1000
    read_bytes = float(total.group(4)) * UNITS[total.group(5)]
    latency = re.search(r"Latency\s+([\d.]+)(\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": requests,
        "rps": requests / duration,
        "mib_s": read_bytes / MIB / duration,
        "bytes_per_response": read_bytes / max(requests, 1),
        "latency_ms": float(latency.group(1)) * TIME_UNITS[latency.group(2)],
        "p99_ms": float(p99.group(1)) * TIME_UNITS[p99.group(2)] if p99 else None,
        "non_2xx_3xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def compare(base, stream_path, direct_path, range_header, cookie, seconds, connections, rounds, min_bytes):
    """Alternate direct and app runs (after a short warm-up of each); returns the mean of each side."""
    app_headers = (range_header, f"Cookie: {cookie}")
    direct_headers = (range_header,)
    wrk(base + direct_path, 2, connections, direct_headers)
    wrk(base + stream_path, 2, connections, app_headers)
    runs = {"direct": [], "app": []}
    for round_number in range(1, rounds + 1):
        for side, path, headers in (("direct", direct_path, direct_headers), ("app", stream_path, app_headers)):
            result = wrk(base + path, seconds, connections, headers)
            # wrk rounds its byte total to two decimals, hence the 2 % allowance.
            if result["non_2xx_3xx"] or result["bytes_per_response"] < 0.98 * min_bytes:
                raise SystemExit(f"{side} run did not get the audio: {result}")
            runs[side].append(result)
            log(f"  round {round_number} {side:6}: {result['rps']:8.1f} req/s  {result['mib_s']:8.1f} MiB/s  "
                f"avg latency {result['latency_ms']:.2f} ms")
    mean = {side: {key: sum(run[key] for run in results) / len(results)
                   for key in ("rps", "mib_s", "latency_ms")} for side, results in runs.items()}
    mean["ratio"] = mean["app"]["rps"] / mean["direct"]["rps"]
    mean["runs"] = runs
    return mean


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per timed wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="direct/app pairs to average (default 2)")
    parser.add_argument("--file-mib", type=int, default=16, help="size of the test track, MiB (default 16)")
    args = parser.parse_args()
    require_commands({"nginx": "nginx", "wrk": "wrk"})

    nginx = None
    with Instance(MEDIA_ACCEL_PREFIX="/_media", TRUSTED_PROXIES=1) as instance:
        log(f"throwaway instance in {instance.dir}")
        instance.setup()
        app = instance.app()
        track_id, key, path = add_track(app, instance.storage, args.file_mib * MIB)
        file_bytes = path.stat().st_size
        stream_path = f"/w/me/tracks/{track_id}/stream"
        with Gunicorn(instance) as server:
            workers = len(server.workers())
            port = free_port()
            workdir = instance.dir / "nginx"
            workdir.mkdir()
            conf = workdir / "nginx.conf"
            conf.write_text(nginx_main_conf(workdir, render_site(port, server.port, instance.storage)))
            error_log = workdir / "error.log"
            try:
                nginx = subprocess.Popen(["nginx", "-p", str(workdir), "-e", str(error_log), "-c", str(conf)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
                try:
                    wait_for_port(port, nginx)
                except RuntimeError as exc:
                    raise SystemExit(f"nginx did not start: {exc}\n{error_log.read_text(errors='replace') if error_log.exists() else ''}")
                client = Client(port)
                client.sign_in()
                log(f"nginx on 127.0.0.1:{port} in front of gunicorn on :{server.port} "
                    f"({workers} {server.env.get('GUNICORN_WORKER_CLASS', 'gthread')} workers); checks:")
                checks = {}
                correctness(port, client, stream_path, key, path, checks)
                if not all(item["ok"] for item in checks.values()):
                    raise SystemExit("the production setup answered wrongly; not timing it")
                base = f"http://127.0.0.1:{port}"
                cookie = client.cookie_header()
                log(f"1 MiB ranges (Range: bytes=0-{MIB - 1}), {args.connections} connections, "
                    f"{args.rounds} × {args.duration} s each side:")
                ranged = compare(base, stream_path, f"{DIRECT}{key}", f"Range: bytes=0-{MIB - 1}", cookie,
                                 args.duration, args.connections, args.rounds, MIB)
                log(f"whole {args.file_mib} MiB file (Range: bytes=0-, what players send first):")
                whole = compare(base, stream_path, f"{DIRECT}{key}", "Range: bytes=0-", cookie,
                                args.duration, args.connections, args.rounds, args.file_mib * MIB)
                # The app's share alone: gunicorn answers the authorisation with headers and no body.
                alone = wrk(f"http://127.0.0.1:{server.port}{stream_path}", 5, args.connections,
                            (f"Range: bytes=0-{MIB - 1}", f"Cookie: {cookie}"))
                log(f"app alone (gunicorn, X-Accel-Redirect answers, no bytes): {alone['rps']:.0f} req/s")
            finally:
                stop(nginx)

    ratio, whole_ratio = ranged["ratio"], whole["ratio"]
    met = ratio >= BAR
    log(f"1 MiB ranges: app {ranged['app']['rps']:.0f} req/s vs direct {ranged['direct']['rps']:.0f} req/s "
        f"= {ratio:.0%} (bar ≥ {BAR:.0%}) -> {'met' if met else 'NOT met'}")
    log(f"whole {args.file_mib} MiB file: app {whole['app']['mib_s']:.0f} MiB/s vs direct "
        f"{whole['direct']['mib_s']:.0f} MiB/s = {whole_ratio:.0%}")
    figure = (f"{ratio:.0%} for 1 MiB ranges ({ranged['app']['rps']:.0f} vs {ranged['direct']['rps']:.0f} req/s, "
              f"{ranged['app']['mib_s']:.0f} vs {ranged['direct']['mib_s']:.0f} MiB/s); "
              f"{whole_ratio:.0%} for whole {args.file_mib} MiB files "
              f"({whole['app']['mib_s']:.0f} vs {whole['direct']['mib_s']:.0f} MiB/s)")
    note = "" if met else (
        f"each range request first runs the app's authorisation in Python (signed-in session and track "
        f"lookups); gunicorn alone answers {alone['rps']:.0f} of those per second on this machine, while "
        f"nginx sends {ranged['direct']['rps']:.0f} 1 MiB ranges per second over loopback on the same CPUs. "
        f"The check costs the same however far the bytes travel, so the share rises when transfer time "
        f"dominates: {whole_ratio:.0%} for whole {args.file_mib} MiB files here, more on a real network"
    )
    write_result("range_throughput", {
        "bar": "in the production setup (nginx in front), authorised range requests reach ≥ 90 % of nginx "
               "serving the same file directly",
        "command": ".venv/bin/python bench/range_throughput.py",
        "figure": figure,
        "met": met,
        "note": note,
        "settings": {"connections": args.connections, "duration_s": args.duration, "rounds": args.rounds,
                     "file_bytes": file_bytes,
                     "gunicorn_workers": workers, "database": "SQLite (throwaway)"},
        "checks": checks,
        "range_1mib": ranged,
        "whole_file": whole,
        "app_alone": alone,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
