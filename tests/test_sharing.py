"""Creating and managing SMS shares: rows, secrets at rest, tier limits, credits (SPEC §6, §8)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from coretet.extensions import db
from coretet.models import AccessGrant, SharedPlaylist, SmsMessage, utcnow
from coretet.services import codes, outbox, sharing, sms_credits
from coretet.services.credits import current_period
from coretet.services.keys import keys_from_config
from coretet.services.phone import blind_index
from coretet.services.sharing import ShareError
from coretet.services.sms_credits import NotEnoughCredits
from coretet.services.workspaces import NotFound, Workspace
from tests.factories import make_band, make_playlist, make_profile, make_track

PHONES = ["+12015550123", "+12015550124", "+12015550125", "+12015550126", "+12015550127", "+12015550128"]


def listen_url(token):
    return f"http://coretet.test/listen/{token}"


def share(app, owner, phones=PHONES[:1], days=7, playlist=None, workspace=None, labels=None):
    playlist = playlist or make_playlist(owner, title="Summer EP Demos")
    recipients = [(phone, (labels or {}).get(phone)) for phone in phones]
    return sharing.create_share(workspace or Workspace(owner), playlist, owner, recipients, days,
                                keys_from_config(app.config), listen_url)


def sent_codes(app):
    """Phone -> code from the texts the in-process worker put in the dev outbox."""
    return {sms["to"]: re.search(r"Code ([A-Z2-9]{6}) ", sms["body"]).group(1)
            for sms in outbox.read(app.config["OUTBOX_DIR"], "sms")}


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_share_makes_one_grant_one_credit_and_one_text_per_number(app):
    owner = make_profile(name="Alex Rivera")
    tracks = [make_track(owner) for _ in range(5)]
    playlist = make_playlist(owner, tracks=tracks, title="Summer EP Demos")
    result = share(app, owner, [PHONES[0], PHONES[1], PHONES[0]], playlist=playlist,
                   labels={PHONES[0]: "  Sam   the drummer ", PHONES[1]: ""})
    keys = keys_from_config(app.config)
    db.session.expire_all()

    created = db.session.get(SharedPlaylist, result.share.id)
    assert len(created.share_token) >= 43 and created.is_active and created.total_access_grants == 2
    assert created.expires_at - utcnow() > timedelta(days=6, hours=23)
    grants = db.session.scalars(select(AccessGrant).where(AccessGrant.shared_playlist_id == created.id)).all()
    by_phone = {grant.phone_blind_index: grant for grant in grants}
    assert set(by_phone) == {blind_index(p, keys.phone_hmac) for p in PHONES[:2]}
    assert by_phone[blind_index(PHONES[0], keys.phone_hmac)].recipient_label == "Sam the drummer"
    texts = {sms["to"]: sms["body"] for sms in outbox.read(app.config["OUTBOX_DIR"], "sms")}
    for phone, code in sent_codes(app).items():
        grant = by_phone[blind_index(phone, keys.phone_hmac)]
        assert codes.verify_code(code, grant.code_hash, keys.code_hmac, grant.id)
        assert grant.expires_at == grant.code_expires_at == created.expires_at
        assert texts[phone].startswith('CoreTet: Alex Rivera shared "Summer EP Demos" (5 tracks). Code ')
        assert f"{listen_url(created.share_token)} Expires " in texts[phone]
    messages = db.session.scalars(select(SmsMessage)).all()
    assert sorted(m.grant_id for m in messages) == sorted(g.id for g in grants)
    assert {(m.purpose, m.status, m.credit_source, m.profile_id) for m in messages} == {
        ("share_code", "sent", "monthly", owner.id)}
    assert sms_credits.balance(owner).monthly_left == 8


def test_no_phone_number_or_code_is_stored_in_clear(app):
    owner = make_profile()
    share(app, owner, PHONES[:3], labels={PHONES[0]: "Sam"})
    secrets_sent = [phone.lstrip("+") for phone in PHONES[:3]] + list(sent_codes(app).values())
    assert len(secrets_sent) == 6
    for table in ("shared_playlists", "playlist_access_grants", "sms_messages"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            dump = " ".join(str(value) for value in row)
            assert not [s for s in secrets_sent if s in dump], table


def test_free_tier_allows_two_live_shares_and_the_third_gets_the_upgrade_modal(app):
    owner = make_profile(tier="free")
    first = share(app, owner)
    share(app, owner)
    with pytest.raises(ShareError) as refused:
        share(app, owner)
    assert refused.value.decision.modal == "upgrade" and "2 active shares" in str(refused.value)
    sharing.end_share(first.share)
    share(app, owner)
    assert sharing.active_share_count(owner) == 2
    assert count(SharedPlaylist) == 3


def test_expired_shares_do_not_count_as_active(app):
    owner = make_profile(tier="free")
    old = share(app, owner)
    share(app, owner)
    old.share.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    share(app, owner)
    assert sharing.active_share_count(owner) == 2


@pytest.mark.parametrize("phones, days, message", [
    (PHONES[:6], 7, "up to 5 recipients"),
    (PHONES[:1], 8, "at most 7 days"),
    (PHONES[:1], None, "must have an end date"),
])
def test_free_tier_limits_on_recipients_and_expiry(app, phones, days, message):
    owner = make_profile(tier="free")
    with pytest.raises(ShareError, match=message) as refused:
        share(app, owner, phones, days=days)
    assert refused.value.decision.modal == "upgrade"
    assert count(SharedPlaylist) == count(SmsMessage) == 0


def test_band_tier_may_share_without_end_date(app):
    owner = make_profile(tier="band")
    result = share(app, owner, PHONES[:6], days=None)
    assert result.share.expires_at is None and len(result.grants) == 6
    assert all(" Expires " not in sms["body"] for sms in outbox.read(app.config["OUTBOX_DIR"], "sms"))


def test_refusals_without_a_tier_limit(app):
    owner = make_profile(tier="band")
    with pytest.raises(ShareError, match="at least one phone") as empty:
        share(app, owner, [])
    assert empty.value.decision is None
    band = make_band(owner, read_only=True)
    playlist = make_playlist(owner, band=band)
    with pytest.raises(ShareError, match="read-only"):
        share(app, owner, playlist=playlist, workspace=Workspace(owner, band, "owner"))
    assert count(SharedPlaylist) == 0


def test_not_enough_credits_refuses_and_writes_nothing(app):
    owner = make_profile(tier="free")
    current_period(owner).credits_used = 9
    db.session.commit()
    with pytest.raises(NotEnoughCredits, match="needs 2 SMS credits and you have 1 left") as refused:
        share(app, owner, PHONES[:2])
    assert (refused.value.needed, refused.value.left) == (2, 1)
    db.session.expire_all()
    assert count(SharedPlaylist) == count(AccessGrant) == count(SmsMessage) == 0
    assert sms_credits.balance(owner).monthly_used == 9
    assert outbox.read(app.config["OUTBOX_DIR"], "sms") == []


def test_purchased_credits_are_spent_after_monthly_ones_and_refunds_go_back_to_their_source(app):
    owner = make_profile(tier="free", purchased_sms_credits=5)
    current_period(owner).credits_used = 9
    db.session.commit()
    share(app, owner, PHONES[:3])
    db.session.expire_all()
    messages = db.session.scalars(select(SmsMessage).order_by(SmsMessage.credit_source)).all()
    assert [m.credit_source for m in messages] == ["monthly", "purchased", "purchased"]
    balance = sms_credits.balance(owner)
    assert (balance.monthly_left, balance.purchased, balance.total_left) == (0, 3, 3)

    monthly, purchased = messages[0], messages[1]
    assert sms_credits.refund(purchased.id) and sms_credits.refund(monthly.id)
    assert not sms_credits.refund(purchased.id)
    db.session.commit()
    db.session.expire_all()
    balance = sms_credits.balance(owner)
    assert (balance.monthly_left, balance.purchased) == (1, 4)
    assert balance.resets_on > utcnow().date()


def test_revoke_resend_extend_end_and_unlock(app):
    owner = make_profile(tier="free")
    keys = keys_from_config(app.config)
    result = share(app, owner, PHONES[:2])
    created, grant = result.share, result.grants[0]
    old_hash = grant.code_hash
    grant.device_hash = "a" * 64
    db.session.commit()

    message = sharing.resend_code(created, str(grant.id), keys, listen_url)
    db.session.expire_all()
    assert grant.code_hash != old_hash and grant.device_hash is None
    assert (message.purpose, message.grant_id, message.credit_source) == ("resend_code", grant.id, "monthly")
    newest = outbox.read(app.config["OUTBOX_DIR"], "sms")[0]
    code = re.search(r" is ([A-Z2-9]{6}) ", newest["body"]).group(1)
    assert codes.verify_code(code, grant.code_hash, keys.code_hmac, grant.id)
    assert sms_credits.balance(owner).monthly_used == 3

    sharing.revoke_grant(created, str(grant.id))
    assert grant.is_revoked and grant.revoked_at is not None
    with pytest.raises(ShareError, match="withdrawn"):
        sharing.resend_code(created, str(grant.id), keys, listen_url)
    with pytest.raises(NotFound):
        sharing.revoke_grant(created, "not-an-id")

    with pytest.raises(ShareError, match="at most 7 days"):
        sharing.extend(created, 30, owner.tier)
    sharing.extend(created, 3, owner.tier)
    db.session.expire_all()
    assert timedelta(days=2, hours=23) < created.expires_at - utcnow() <= timedelta(days=3)
    assert {g.code_expires_at for g in result.grants} == {created.expires_at}

    created.failed_attempts, created.locked_at = 20, utcnow()
    db.session.commit()
    sharing.unlock(created)
    assert (created.failed_attempts, created.locked_at) == (0, None)
    sharing.end_share(created)
    assert not created.is_active and created.ended_at is not None
    with pytest.raises(ShareError, match="ended"):
        sharing.resend_code(created, str(result.grants[1].id), keys, listen_url)


def test_manage_view_lists_shares_with_latest_sms_status_in_fixed_queries(app):
    owner = make_profile(tier="producer")
    keys = keys_from_config(app.config)
    small, large = make_playlist(owner), make_playlist(owner)
    share(app, owner, PHONES[:1], playlist=small)
    for _ in range(3):
        share(app, owner, PHONES[:5], playlist=large)
    failed = db.session.scalars(select(SmsMessage).limit(1)).first()
    failed.status = "failed"
    db.session.commit()
    assert small.id and large.id  # loaded now, so only the manage view's own queries are counted

    def queries(playlist):
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            views = sharing.shares_for_playlist(playlist, keys)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return views, len(seen)

    (small_views, small_count), (large_views, large_count) = queries(small), queries(large)
    assert small_count == large_count == 5
    assert [len(view.recipients) for view in large_views] == [5, 5, 5]
    statuses = [r.sms_status for view in small_views + large_views for r in view.recipients]
    assert sorted(set(statuses)) == ["failed", "sent"] and statuses.count("failed") == 1
    assert small_views[0].recipients[0].masked_phone.endswith("0123")
    assert "555" not in small_views[0].recipients[0].masked_phone
    assert sharing.get_share(large, str(large_views[0].share.id)) == large_views[0].share
    with pytest.raises(NotFound):
        sharing.get_share(small, str(large_views[0].share.id))
