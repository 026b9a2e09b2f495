"""Credit races (QUALITY.md) on PostgreSQL: concurrent sends never overspend, failures refund once."""
import threading

import pytest
from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import Playlist, Profile, SharedPlaylist, SmsCredit, SmsMessage
from coretet.services import delivery, sharing, sms_credits
from coretet.services.credits import current_period
from coretet.services.keys import keys_from_config
from coretet.services.sms_credits import NotEnoughCredits
from coretet.services.workspaces import Workspace
from tests.factories import make_playlist, make_profile

PHONE = "+12015550123"


def race(app, threads, action):
    """Run action(i) in `threads` threads, each with its own app context and connection, released together."""
    barrier = threading.Barrier(threads, timeout=60)
    outcomes = []

    def run(i):
        with app.app_context():
            try:
                outcomes.append(action(i, barrier.wait))
            except Exception as exc:  # recorded so the test shows it instead of a silent thread death
                outcomes.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a thread hung"
    return outcomes


def test_thirty_concurrent_sends_against_ten_credits_queue_exactly_ten(pg_app, race_app):
    # Producer tier: no active-share limit, so credits are the only thing that can run out.
    owner = make_profile(tier="producer")
    period = current_period(owner)
    period.credits_used = period.credits_total - 10
    db.session.commit()
    playlist = make_playlist(owner, title="Demos")
    owner_id, playlist_id = owner.id, playlist.id

    def send(i, go):
        sharer = db.session.get(Profile, owner_id)
        target = db.session.get(Playlist, playlist_id)
        keys = keys_from_config(race_app.config)
        go()
        try:
            sharing.create_share(Workspace(sharer), target, sharer, [(PHONE, None)], 7, keys, lambda t: t)
            return "shared"
        except NotEnoughCredits:
            return "refused"

    outcomes = race(race_app, 30, send)

    assert sorted(set(map(str, outcomes))) == ["refused", "shared"], outcomes
    assert outcomes.count("shared") == 10
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SmsMessage.id))) == 10
    assert db.session.scalar(select(func.count(SharedPlaylist.id))) == 10
    row = db.session.scalar(select(SmsCredit).where(SmsCredit.profile_id == owner_id))
    assert row.credits_used == row.credits_total
    assert sms_credits.balance(db.session.get(Profile, owner_id)).total_left == 0


@pytest.fixture
def failed_message(pg_app):
    """A sent share text the provider will report as failed; its owner has 0 credits left."""
    owner = make_profile(tier="free")
    period = current_period(owner)
    period.credits_used = period.credits_total - 1
    db.session.commit()
    result = sharing.create_share(Workspace(owner), make_playlist(owner), owner, [(PHONE, None)], 7,
                                  keys_from_config(pg_app.config), lambda t: t)
    message = db.session.get(SmsMessage, result.messages[0].id)
    message.provider_sid = "SM" + "f" * 32
    db.session.commit()
    assert sms_credits.balance(owner).total_left == 0
    return owner.id, message.id


def _credits_left(owner_id):
    db.session.expire_all()
    return sms_credits.balance(db.session.get(Profile, owner_id)).total_left


def test_the_same_failure_reported_concurrently_refunds_once(failed_message, race_app):
    owner_id, _ = failed_message

    def report(i, go):
        go()
        return delivery.apply_status("SM" + "f" * 32, "failed" if i % 2 else "undelivered", "30003")

    outcomes = race(race_app, 10, report)

    assert outcomes.count(True) == 1 and outcomes.count(False) == 9, outcomes
    assert _credits_left(owner_id) == 1


def test_concurrent_refunds_of_one_message_give_back_one_credit(failed_message, race_app):
    owner_id, message_id = failed_message

    def refund(i, go):
        go()
        refunded = sms_credits.refund(message_id)
        db.session.commit()
        return refunded

    outcomes = race(race_app, 10, refund)

    assert outcomes.count(True) == 1 and outcomes.count(False) == 9, outcomes
    assert _credits_left(owner_id) == 1
    assert not sms_credits.refund(message_id)
    assert delivery.apply_status("SM" + "f" * 32, "failed", "30003")  # status moves; no second refund
    assert _credits_left(owner_id) == 1
