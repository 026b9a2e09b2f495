"""Jobs run only after the commit that queued them: in-process without Redis, through RQ with it."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from coretet.extensions import db
from coretet.jobs import enqueue_after_commit, get_queue, make_worker
from coretet.models import Profile
from tests.conftest import build_app, empty_database
from tests.factories import make_profile
from tests.job_helpers import promote


def _is_admin(profile_id):
    db.session.expire_all()
    return db.session.get(Profile, profile_id).is_admin


def test_in_process_job_runs_right_after_the_commit(app):
    profile = make_profile()
    enqueue_after_commit(db.session, promote, str(profile.id))
    assert not _is_admin(profile.id), "the job must not run before the commit"
    db.session.commit()
    assert _is_admin(profile.id)


def test_a_rolled_back_transaction_queues_nothing(app):
    profile = make_profile()
    enqueue_after_commit(db.session, promote, str(profile.id))
    db.session.rollback()
    db.session.commit()
    assert not _is_admin(profile.id)


@pytest.fixture
def rq_app(postgres_url, redis_url, tmp_path):
    app = build_app(postgres_url, tmp_path, redis_url=redis_url)
    with app.app_context():
        get_queue("default").empty()
        yield app
    empty_database(app)


def test_with_redis_the_job_waits_in_rq_until_a_worker_runs_it(rq_app):
    profile = make_profile()
    enqueue_after_commit(db.session, promote, str(profile.id))
    db.session.commit()
    queue = get_queue("default")
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.args == (str(profile.id),), "jobs carry ids, never rows or personal data"
    assert not _is_admin(profile.id)

    make_worker(rq_app, queues=["default"], simple=True).work(burst=True)
    assert _is_admin(profile.id)
    assert queue.count == 0


def test_rq_scheduled_rollover_opens_periods_and_books_the_next_day_once(rq_app):
    from rq.registry import ScheduledJobRegistry

    from coretet.models import SmsCredit
    from coretet.schedule import ROLLOVER_JOB_ID, rollover_and_reschedule

    make_profile()
    make_profile()
    runner = rq_app.test_cli_runner()
    for _ in range(2):  # scheduling twice keeps one job
        result = runner.invoke(args=["credits", "schedule"])
        assert result.exit_code == 0, result.output
    queue = get_queue("default")
    assert queue.job_ids.count(ROLLOVER_JOB_ID) + ScheduledJobRegistry(queue=queue).get_job_ids().count(
        ROLLOVER_JOB_ID) == 1

    assert rollover_and_reschedule() == 2
    assert db.session.scalar(select(func.count()).select_from(SmsCredit)) == 2
    scheduled = ScheduledJobRegistry(queue=queue)
    assert scheduled.get_job_ids() == [ROLLOVER_JOB_ID]
    when = scheduled.get_scheduled_time(ROLLOVER_JOB_ID)
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    assert 23 * 3600 < (when - datetime.now(timezone.utc)).total_seconds() <= 24 * 3600 + 60


def test_scheduling_without_redis_says_to_use_cron(app):
    result = app.test_cli_runner().invoke(args=["credits", "schedule"])
    assert result.exit_code != 0 and "use cron or the systemd timer" in result.output
