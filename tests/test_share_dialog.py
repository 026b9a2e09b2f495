"""The share dialog and the manage view (SPEC §6): checks as typed, tier limits, cost, and owner actions."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from coretet.extensions import db
from coretet.models import AccessGrant, SharedPlaylist, SmsMessage, utcnow
from coretet.services import outbox, sms_credits
from coretet.services.keys import keys_from_config
from tests.auth_helpers import csrf_from, sign_in
from tests.factories import make_playlist, make_profile, make_track
from tests.share_factories import add_grant, make_share

HX = {"HX-Request": "true"}
SAM, KIM = "+14155550100", "+12025550143"


@pytest.fixture
def alex(client):
    profile = make_profile(email="alex@example.com", name="Alex", tier="free")
    sign_in(client, profile.email)
    return profile


@pytest.fixture
def playlist(alex):
    tracks = [make_track(alex, title=f"Song {n}") for n in range(3)]
    return make_playlist(alex, tracks=tracks, title="Summer EP Demos")


def token(client, playlist):
    return csrf_from(client.get(f"/w/me/playlists/{playlist.id}").get_data(as_text=True))


def send(client, method, url, data=None, csrf=None):
    """An htmx request carrying the CSRF header, as app.js sends it."""
    return client.open(url, method=method, data=data or {}, headers={"X-CSRFToken": csrf, **HX})


def share_url(playlist, suffix=""):
    return f"/w/me/playlists/{playlist.id}/share{suffix}"


def rows(*phones, expiry="7"):
    data = {"expiry": expiry}
    for index, phone in enumerate(phones):
        data.update({f"recipients-{index}-phone": phone, f"recipients-{index}-display_name": f"Person {index}"})
    return data


def shares_of(playlist):
    db.session.expire_all()
    return db.session.scalars(select(SharedPlaylist).where(SharedPlaylist.playlist_id == playlist.id)).all()


def test_dialog_offers_expiry_choices_and_locks_those_above_the_free_plan(client, playlist):
    page = client.get(share_url(playlist), headers=HX).get_data(as_text=True)
    assert 'id="share-dialog"' in page and "<html" not in page
    assert 'name="recipients-0-phone"' in page and 'name="recipients-0-display_name"' in page
    radios = dict(re.findall(r'<input type="radio" name="expiry" value="(\w+)"([^>]*)>', page))
    assert set(radios) == {"7", "30", "90", "never"}
    assert "disabled" not in radios["7"] and "checked" in radios["7"]
    for locked in ("30", "90", "never"):
        assert "disabled" in radios[locked]
    assert "Upgrade to Band" in page
    assert "SMS cost: <strong>0 credits</strong> — you have 10" in page


def test_band_plan_can_pick_every_expiry_but_not_more_than_ten_rows(client, app):
    bea = make_profile(email="bea@example.com", tier="band")
    sign_in(client, bea.email)
    playlist = make_playlist(bea)
    page = client.get(share_url(playlist), headers=HX).get_data(as_text=True)
    assert "disabled" not in "".join(re.findall(r'<input type="radio"[^>]*>', page))
    row = client.get(share_url(playlist, "/row?index=9"), headers=HX).get_data(as_text=True)
    assert 'id="recipients-9-phone"' in row and "+ Add another" not in row
    assert 'hx-swap-oob="true"' in row and "up to 10 recipients per share" in row


def test_add_another_gives_the_next_row_until_the_free_limit(client, playlist):
    row = client.get(share_url(playlist, "/row?index=1"), headers=HX).get_data(as_text=True)
    assert 'name="recipients-1-phone"' in row and "index=2" in row
    last = client.get(share_url(playlist, "/row?index=4"), headers=HX).get_data(as_text=True)
    assert "+ Add another" not in last and "up to 5 recipients per share" in last


def test_inline_check_shows_international_format(client, playlist):
    csrf = token(client, playlist)
    page = send(client, "POST", share_url(playlist, "/check?row=0"), rows("(415) 555-0100"), csrf).get_data(as_text=True)
    assert 'id="recipients-0-phone-feedback"' in page and "+1 415-555-0100" in page and "field-error" not in page


def test_inline_check_flags_the_same_number_typed_another_way(client, playlist):
    csrf = token(client, playlist)
    page = send(client, "POST", share_url(playlist, "/check?row=1"),
                rows("+1 415 555 0100", "415.555.0100"), csrf).get_data(as_text=True)
    assert "already added +1 415-555-0100" in page and "field-error" in page


def test_inline_check_refuses_a_country_we_cannot_text(client, playlist):
    csrf = token(client, playlist)
    page = send(client, "POST", share_url(playlist, "/check?row=0"), rows("+44 7911 123456"), csrf).get_data(as_text=True)
    assert "We can only text numbers in the United States and Canada" in page


def test_cost_line_counts_distinct_numbers_and_shows_the_balance(client, playlist):
    csrf = token(client, playlist)
    data = rows(SAM, KIM, "(415) 555-0100", "+44 7911 123456", "415 555")
    page = send(client, "POST", share_url(playlist, "/cost"), data, csrf).get_data(as_text=True)
    assert "SMS cost: <strong>2 credits</strong> — you have 10" in page
    assert 'id="share-cost"' in page and "<html" not in page


def test_sending_creates_the_share_and_queues_one_text_per_recipient(client, app, playlist):
    csrf = token(client, playlist)
    response = send(client, "POST", share_url(playlist), rows(SAM, "(202) 555-0143"), csrf)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert page.count(">queued<") == 2
    assert "Person 0" in page and "+1 •••-•••-0100" in page and "+1 •••-•••-0143" in page
    assert SAM not in page
    assert "Access expires in 7 days" in page  # a 7-day share right after sending, not "6 days"
    assert "shares-changed" in response.headers["HX-Trigger"]
    [share] = shares_of(playlist)
    assert share.total_access_grants == 2
    texts = outbox.read(app.config["OUTBOX_DIR"], "sms")
    assert sorted(t["to"] for t in texts) == sorted([SAM, KIM])
    assert all("Summer EP Demos" in t["body"] and share.share_token in t["body"] for t in texts)
    assert "8 left" in page


def test_invalid_rows_come_back_with_errors_next_to_the_fields(client, playlist):
    csrf = token(client, playlist)
    response = send(client, "POST", share_url(playlist), rows(SAM, "+44 7911 123456", "415-555-0100"), csrf)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="share-dialog"' in page
    assert "We can only text numbers in the United States and Canada" in page
    assert "already added +1 415-555-0100" in page
    assert shares_of(playlist) == []


def test_free_plan_refuses_six_recipients_with_the_upgrade_modal(client, app, playlist):
    csrf = token(client, playlist)
    phones = [f"+1415555010{n}" for n in range(6)]
    response = send(client, "POST", share_url(playlist), rows(*phones), csrf)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert 'id="upgrade-modal"' in page and "up to 5 recipients per share" in page
    assert shares_of(playlist) == [] and outbox.read(app.config["OUTBOX_DIR"], "sms") == []


def test_free_plan_refuses_a_third_active_share_with_the_upgrade_modal(client, alex, playlist):
    make_share(alex, playlist)
    make_share(alex, playlist)
    make_share(alex, playlist, expires_at=utcnow() - timedelta(days=1))  # expired: doesn't count
    csrf = token(client, playlist)
    response = send(client, "POST", share_url(playlist), rows(SAM), csrf)
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and 'id="upgrade-modal"' in page and "2 active shares" in page
    assert len(shares_of(playlist)) == 3
    assert 'id="upgrade-modal"' in client.get(share_url(playlist), headers=HX).get_data(as_text=True)


def test_not_enough_credits_is_said_inline_with_the_balance(client, alex, playlist):
    sms_credits.debit(alex, 9)
    db.session.commit()
    csrf = token(client, playlist)
    response = send(client, "POST", share_url(playlist), rows(SAM, KIM), csrf)
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and 'id="share-dialog"' in page
    assert "needs 2 SMS credits and you have 1 left" in page
    assert shares_of(playlist) == []


def test_sending_requires_the_csrf_token(client, playlist):
    response = client.post(share_url(playlist), data=rows(SAM), headers=HX)
    assert response.status_code == 400
    assert shares_of(playlist) == []


@pytest.fixture
def shared(app, alex, playlist):
    """A live share of the playlist to two people; the texts went out through the outbox."""
    share = make_share(alex, playlist, expires_at=utcnow() + timedelta(days=5))
    keys = keys_from_config(app.config)
    grants = [add_grant(share, SAM, keys, recipient_label="Sam"), add_grant(share, KIM, keys)]
    for grant, status in zip(grants, ("delivered", "sent")):
        db.session.add(SmsMessage(purpose="share_code", profile_id=alex.id, grant_id=grant.id,
                                  to_blind_index="x", to_encrypted="x", status=status))
    db.session.commit()
    return share, grants


def manage_url(playlist, suffix=""):
    return f"/w/me/playlists/{playlist.id}/shares{suffix}"


def test_manage_view_shows_masked_phone_status_and_expiry(client, playlist, shared):
    page = client.get(manage_url(playlist), headers=HX).get_data(as_text=True)
    assert "Sam" in page and "+1 •••-•••-0100" in page and "+1 •••-•••-0143" in page
    assert SAM not in page and "555-0100" not in page
    assert ">delivered<" in page and ">sent<" in page
    assert "expires in 4 days" in page or "expires in 5 days" in page
    assert "Not opened yet" in page
    assert "every 5s" not in page  # nothing on its way: no polling


def test_manage_view_polls_while_a_text_is_queued(client, playlist, shared):
    _, grants = shared
    db.session.add(SmsMessage(purpose="resend_code", grant_id=grants[1].id, to_blind_index="z",
                              to_encrypted="z", status="queued"))
    db.session.commit()
    assert "every 5s" in client.get(manage_url(playlist), headers=HX).get_data(as_text=True)


def test_playlist_page_loads_the_manage_view(client, playlist):
    page = client.get(f"/w/me/playlists/{playlist.id}").get_data(as_text=True)
    assert 'id="shares"' in page and f'hx-get="/w/me/playlists/{playlist.id}/shares"' in page
    assert "Share by SMS" in page


def test_revoke_withdraws_one_recipient(client, playlist, shared):
    share, grants = shared
    csrf = token(client, playlist)
    response = send(client, "DELETE", manage_url(playlist, f"/{share.id}/grants/{grants[0].id}"), csrf=csrf)
    assert response.status_code == 200 and "Access withdrawn" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AccessGrant, grants[0].id).is_revoked
    assert not db.session.get(AccessGrant, grants[1].id).is_revoked


def test_resend_texts_a_new_code_for_one_credit(client, app, playlist, shared):
    share, grants = shared
    csrf = token(client, playlist)
    old_hash = grants[0].code_hash
    response = send(client, "POST", manage_url(playlist, f"/{share.id}/grants/{grants[0].id}/resend"), csrf=csrf)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(AccessGrant, grants[0].id).code_hash != old_hash
    assert [t["to"] for t in outbox.read(app.config["OUTBOX_DIR"], "sms")] == [SAM]


def test_extend_within_the_plan_and_refuse_beyond_it(client, playlist, shared):
    share, _ = shared
    csrf = token(client, playlist)
    response = send(client, "POST", manage_url(playlist, f"/{share.id}/extend"), {"days": "7"}, csrf)
    assert response.status_code == 200 and "expires in 7 days" in response.get_data(as_text=True)
    refused = send(client, "POST", manage_url(playlist, f"/{share.id}/extend"), {"days": "never"}, csrf)
    assert refused.status_code == 403 and 'id="upgrade-modal"' in refused.get_data(as_text=True)
    assert refused.headers["HX-Retarget"] == "#modal"
    assert shares_of(playlist)[0].expires_at is not None


def test_end_all_access_and_unlock(client, playlist, shared):
    share, _ = shared
    share.locked_at, share.failed_attempts = utcnow(), 20
    db.session.commit()
    csrf = token(client, playlist)
    assert "Locked" in client.get(manage_url(playlist), headers=HX).get_data(as_text=True)
    assert send(client, "POST", manage_url(playlist, f"/{share.id}/unlock"), csrf=csrf).status_code == 200
    db.session.expire_all()
    assert db.session.get(SharedPlaylist, share.id).locked_at is None
    page = send(client, "DELETE", manage_url(playlist, f"/{share.id}"), csrf=csrf).get_data(as_text=True)
    assert ">ended<" in page and "Resend code" not in page
    db.session.expire_all()
    assert db.session.get(SharedPlaylist, share.id).is_active is False


def test_foreign_share_and_grant_ids_are_404_like_unknown_ones(client, app, alex, playlist, shared):
    share, grants = shared
    other_owner = make_profile()
    other_share = make_share(other_owner)
    other_grant = add_grant(other_share, KIM, keys_from_config(app.config))
    mine_elsewhere = make_share(alex, make_playlist(alex))
    csrf = token(client, playlist)
    for url in (f"/{other_share.id}/unlock", f"/{mine_elsewhere.id}/unlock", f"/{share.id}x/unlock",
                f"/{share.id}/grants/{other_grant.id}/resend", f"/{share.id}/grants/not-a-uuid/resend"):
        assert send(client, "POST", manage_url(playlist, url), csrf=csrf).status_code == 404, url
    assert send(client, "DELETE", manage_url(playlist, f"/{other_share.id}"), csrf=csrf).status_code == 404
    db.session.expire_all()
    assert db.session.get(SharedPlaylist, other_share.id).is_active


def test_non_members_get_404_everywhere(app, playlist, shared):
    share, grants = shared
    stranger = make_profile(email="stranger@example.com", tier="band")
    client = app.test_client()
    sign_in(client, stranger.email)
    csrf = csrf_from(client.get("/w/me/playlists").get_data(as_text=True))
    assert client.get(share_url(playlist), headers=HX).status_code == 404
    assert client.get(manage_url(playlist), headers=HX).status_code == 404
    for method, url, target in (("POST", share_url(playlist), rows(SAM)),
                                ("POST", share_url(playlist, "/check?row=0"), rows(SAM)),
                                ("POST", manage_url(playlist, f"/{share.id}/unlock"), None),
                                ("DELETE", manage_url(playlist, f"/{share.id}/grants/{grants[0].id}"), None)):
        assert send(client, method, url, target, csrf).status_code == 404, url
    assert len(shares_of(playlist)) == 1
