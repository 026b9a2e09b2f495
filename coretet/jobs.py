"""Background jobs, enqueued only after the database commit that made them necessary.

With REDIS_URL set, jobs go to RQ and `worker.py` runs them. Without it (the
embedded default), the same job function runs in-process right after the commit,
in a fresh application context with its own database session.
"""
import logging

from flask import current_app
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_PENDING = "coretet_pending_jobs"


def init_app(app):
    app.extensions["coretet_redis"] = Redis.from_url(app.config["REDIS_URL"]) if app.config.get("REDIS_URL") else None


def redis_connection(app=None):
    app = app or current_app
    return app.extensions.get("coretet_redis")


def get_queue(name="default", app=None):
    """The RQ queue of that name, or None when running without Redis."""
    connection = redis_connection(app)
    return Queue(name, connection=connection) if connection is not None else None


def enqueue_after_commit(session, func, *args, queue="default", **options):
    """Run func(*args) once the session's current transaction commits; never if it rolls back."""
    session.info.setdefault(_PENDING, []).append((func, args, queue, options))


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session):
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    app = current_app._get_current_object()
    for func, args, queue, options in pending:
        dispatch(app, func, args, queue, options)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session):
    session.info.pop(_PENDING, None)


def dispatch(app, func, args, queue="default", options=None):
    """Hand a job to RQ, or run it now in its own app context when there is no Redis."""
    rq_queue = get_queue(queue, app)
    if rq_queue is not None:
        return rq_queue.enqueue(func, *args, **(options or {}))
    try:
        with app.app_context():
            func(*args)
    except Exception:  # the commit that queued it stands; the job logs its own failure
        log.exception("in-process job %s failed", getattr(func, "__name__", func))
    return None


class _AppContextMixin:
    """Run every job inside a fresh app context so each gets a clean database session."""

    flask_app = None

    def perform_job(self, job, queue, *args, **kwargs):
        with self.flask_app.app_context():
            return super().perform_job(job, queue, *args, **kwargs)


class AppWorker(_AppContextMixin, Worker):
    """Forking RQ worker for production (worker.py)."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Non-forking RQ worker, used by tests and on platforms without fork."""


def make_worker(app, queues=None, simple=False):
    cls = AppSimpleWorker if simple else AppWorker
    names = queues or app.config["RQ_QUEUES"]
    worker = cls([get_queue(name, app) for name in names], connection=redis_connection(app))
    worker.flask_app = app
    return worker
