"""Daily housekeeping through RQ's own scheduler, for deployments without cron or systemd timers.

`flask credits schedule` queues the first run; each run opens the current
credit periods and queues the next one a day later under the same job id, so
scheduling twice never doubles it. The worker must run with its scheduler on
(worker.py does).
"""
from datetime import timedelta

from flask import current_app

from coretet.jobs import get_queue
from coretet.services import credits

ROLLOVER_JOB_ID = "coretet-credits-rollover"
DAY = timedelta(days=1)


def schedule_rollover(app, delay=DAY):
    """Queue the rollover `delay` from now; returns the RQ job, or None without Redis."""
    queue = get_queue("default", app)
    if queue is None:
        return None
    return queue.enqueue_in(delay, rollover_and_reschedule, job_id=ROLLOVER_JOB_ID)


def rollover_and_reschedule():
    """The scheduled job: open this period for every account, then book tomorrow's run."""
    created = credits.rollover()
    schedule_rollover(current_app._get_current_object())
    return created
