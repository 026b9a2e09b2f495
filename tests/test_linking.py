"""Account linking: live SMS grants for a verified phone become followed playlists, once."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import PlaylistFollower, utcnow
from coretet.services.keys import keys_from_config
from coretet.services.linking import claim_grants_for, shared_with_me
from tests import share_factories
from tests.factories import make_playlist, make_profile
from tests.share_factories import add_grant as make_grant

PHONE = "+14155550123"
OTHER_PHONE = "+14155550199"


@pytest.fixture
def keys(app):
    return keys_from_config(app.config)


@pytest.fixture
def sharer(app):
    return make_profile(name="Alex Rivera")


def make_share(owner, playlist=None, **fields):
    return share_factories.make_share(owner, playlist, title="Summer EP Demos", **fields)


def followers(profile):
    return db.session.scalars(
        select(PlaylistFollower).where(PlaylistFollower.profile_id == profile.id)
    ).all()


def claim(profile, keys):
    claimed = claim_grants_for(profile, keys)
    db.session.commit()
    return claimed


def test_live_grant_for_the_phone_becomes_a_followed_playlist(app, keys, sharer):
    share = make_share(sharer, expires_at=utcnow() + timedelta(days=7))
    grant = make_grant(share, PHONE, keys, expires_at=utcnow() + timedelta(days=3))
    recipient = make_profile(phone=PHONE)

    assert [g.id for g in claim(recipient, keys)] == [grant.id]
    db.session.refresh(grant)
    assert grant.claimed_by == recipient.id and grant.claimed_at is not None
    [follower] = followers(recipient)
    assert (follower.playlist_id, follower.source, follower.grant_id) == (
        share.playlist_id, "sms_share", grant.id
    )


PAST = timedelta(minutes=-1)


@pytest.mark.parametrize("share_fields, grant_fields", [
    ({}, {"expires_at": "past"}),
    ({}, {"is_revoked": True}),
    ({"is_active": False}, {}),
    ({"expires_at": "past"}, {}),
], ids=["expired grant", "revoked grant", "inactive share", "expired share"])
def test_grants_that_give_no_access_are_not_claimed(app, keys, sharer, share_fields, grant_fields):
    def resolve(fields):
        return {k: utcnow() + PAST if v == "past" else v for k, v in fields.items()}

    grant = make_grant(make_share(sharer, **resolve(share_fields)), PHONE, keys, **resolve(grant_fields))
    recipient = make_profile(phone=PHONE)

    assert claim(recipient, keys) == []
    db.session.refresh(grant)
    assert grant.claimed_by is None and followers(recipient) == []


def test_linking_twice_adds_nothing(app, keys, sharer):
    make_grant(make_share(sharer), PHONE, keys)
    recipient = make_profile(phone=PHONE)
    assert len(claim(recipient, keys)) == 1
    assert claim(recipient, keys) == []
    assert db.session.scalar(select(func.count()).select_from(PlaylistFollower)) == 1


def test_grants_for_another_phone_are_untouched(app, keys, sharer):
    other = make_grant(make_share(sharer), OTHER_PHONE, keys)
    recipient = make_profile(phone=PHONE)
    assert claim(recipient, keys) == []
    db.session.refresh(other)
    assert other.claimed_by is None


def test_unverified_phone_claims_nothing(app, keys, sharer):
    make_grant(make_share(sharer), PHONE, keys)
    recipient = make_profile(phone=PHONE, verified=False)
    assert claim(recipient, keys) == []
    assert followers(recipient) == []


def test_sharer_does_not_claim_a_grant_to_their_own_phone(app, keys):
    owner = make_profile(phone=PHONE)
    grant = make_grant(make_share(owner), PHONE, keys)
    assert claim(owner, keys) == []
    db.session.refresh(grant)
    assert grant.claimed_by is None


def test_grant_claimed_by_another_account_stays_with_it(app, keys, sharer):
    first_holder = make_profile()
    grant = make_grant(make_share(sharer), PHONE, keys, claimed_by=first_holder.id, claimed_at=utcnow())
    assert claim(make_profile(phone=PHONE), keys) == []
    db.session.refresh(grant)
    assert grant.claimed_by == first_holder.id


def test_two_shares_of_one_playlist_make_one_follower(app, keys, sharer):
    playlist = make_playlist(sharer)
    make_grant(make_share(sharer, playlist), PHONE, keys)
    make_grant(make_share(sharer, playlist), PHONE, keys)
    recipient = make_profile(phone=PHONE)
    assert len(claim(recipient, keys)) == 2
    assert len(followers(recipient)) == 1


def test_already_following_keeps_the_existing_follower(app, keys, sharer):
    share = make_share(sharer)
    recipient = make_profile(phone=PHONE)
    db.session.add(PlaylistFollower(playlist_id=share.playlist_id, profile_id=recipient.id))
    db.session.commit()
    grant = make_grant(share, PHONE, keys)
    assert [g.id for g in claim(recipient, keys)] == [grant.id]
    [follower] = followers(recipient)
    assert follower.source == "manual"


def test_shared_with_me_lists_claimed_playlists_while_their_grant_is_live(app, keys, sharer):
    share = make_share(sharer)
    grant = make_grant(share, PHONE, keys)
    recipient = make_profile(phone=PHONE)
    claim(recipient, keys)

    [(playlist, follower, sharer_name)] = shared_with_me(recipient)
    assert playlist.id == share.playlist_id and playlist.title == "Summer EP Demos"
    assert follower.grant_id == grant.id and sharer_name == "Alex Rivera"
    assert shared_with_me(recipient, now=utcnow() + timedelta(days=1))

    grant.is_revoked = True
    db.session.commit()
    assert shared_with_me(recipient) == []


def test_shared_with_me_drops_expired_shares_and_keeps_manual_follows(app, keys, sharer):
    recipient = make_profile(phone=PHONE)
    make_grant(make_share(sharer, expires_at=utcnow() + timedelta(hours=1)), PHONE, keys)
    claim(recipient, keys)
    followed = make_playlist(make_profile(name="Sam Lee"), title="Followed by hand")
    db.session.add(PlaylistFollower(playlist_id=followed.id, profile_id=recipient.id, source="manual"))
    db.session.commit()

    assert len(shared_with_me(recipient)) == 2
    later = shared_with_me(recipient, now=utcnow() + timedelta(hours=2))
    assert [(p.title, name) for p, _, name in later] == [("Followed by hand", "Sam Lee")]
