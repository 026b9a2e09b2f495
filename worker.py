"""RQ worker for CoreTet's queues: `python worker.py [QUEUE ...]` (needs REDIS_URL).

With no names it takes every queue in RQ_QUEUES (sms first); `python worker.py analysis`
runs a worker for audio analysis only, so long files never delay texts.
"""
import sys

from coretet import create_app
from coretet.jobs import make_worker, redis_connection


def main():
    app = create_app()
    if redis_connection(app) is None:
        sys.exit("worker.py needs REDIS_URL; without it jobs run inside the web process.")
    queues = sys.argv[1:] or None
    unknown = set(queues or ()) - set(app.config["RQ_QUEUES"])
    if unknown:
        known = ", ".join(app.config["RQ_QUEUES"])
        sys.exit(f"Unknown queue(s) {', '.join(sorted(unknown))}; CoreTet's queues are {known}.")
    make_worker(app, queues).work(with_scheduler=True)


if __name__ == "__main__":
    main()
