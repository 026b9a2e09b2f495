"""RQ worker for CoreTet's queues: `python worker.py` (needs REDIS_URL)."""
import sys

from coretet import create_app
from coretet.jobs import make_worker, redis_connection


def main():
    app = create_app()
    if redis_connection(app) is None:
        sys.exit("worker.py needs REDIS_URL; without it jobs run inside the web process.")
    make_worker(app).work(with_scheduler=True)


if __name__ == "__main__":
    main()
