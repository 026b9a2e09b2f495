"""Isolation is absolute (SPEC §4): every route, with another band's real ids, answers 404.

The walk covers every rule in app.url_map. A rule with an argument this file
does not know fails the test, so new routes cannot skip the walk.
"""
import tempfile
from datetime import timedelta

import pytest

from coretet import create_app
from coretet.config import TestConfig
from coretet.extensions import db
from coretet.models import BandInvite, utcnow
from coretet.services.filestore import store_from_config
from tests.auth_helpers import csrf, sign_in, without_csrf
from coretet.services.keys import keys_from_config
from tests.factories import make_band, make_comment, make_playlist, make_profile, make_track
from tests.share_factories import add_grant, make_share

# Arguments that are secrets rather than object ids: guessing them is the attack,
# and each has its own test (reset, email change, invites, listen links).
SECRET_ARGS = {"token", "filename"}
# Arguments that are not objects at all.
PLAIN_ARGS = {"field": "email", "pack": "pack25", "limit": "storage"}
# Endpoints with no object in the URL; their form and query ids are walked in the area tests.
NO_OBJECTS = {"static", "dev.outbox"}


def _rules():
    app = create_app(TestConfig("sqlite://", tempfile.mkdtemp()))
    return sorted(
        (rule for rule in app.url_map.iter_rules()
         if rule.endpoint not in NO_OBJECTS and rule.arguments and not rule.arguments & SECRET_ARGS
         and rule.arguments - set(PLAIN_ARGS)),
        key=lambda rule: rule.rule,
    )


RULES = [(rule.rule, method) for rule in _rules() for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


@pytest.fixture
def world(app):
    """Band B (Bob's) with a track and a playlist; Alice is in band A only."""
    alice, bob = make_profile(email="alice@example.com"), make_profile(email="bob@example.com")
    band_a, band_b = make_band(alice), make_band(bob)
    store = store_from_config(app.config)
    track = make_track(bob, band=band_b, store=store)
    personal = make_track(bob, store=store)
    playlist = make_playlist(bob, [track], band=band_b)
    personal_playlist = make_playlist(bob, [personal])
    invite = BandInvite(band_id=band_b.id, invited_by=bob.id, token_hash="0" * 64, email="carol@example.com",
                        expires_at=utcnow() + timedelta(days=7))
    db.session.add(invite)
    db.session.commit()
    share = make_share(bob, playlist=playlist)
    grant = add_grant(share, "+12015550188", keys_from_config(app.config))
    personal_share = make_share(bob, playlist=personal_playlist)
    personal_grant = add_grant(personal_share, "+12015550189", keys_from_config(app.config))
    comment = make_comment(bob, track, voice=b"\0" * 64, store=store)
    return {"alice": alice, "bob": bob, "band_a": band_a, "band_b": band_b,
            "ids": {"ws": str(band_b.id), "track_id": str(track.id), "playlist_id": str(playlist.id),
                    "member_id": str(bob.id), "profile_id": str(bob.id), "invite_id": str(invite.id),
                    "share_id": str(share.id), "grant_id": str(grant.id),
                    "personal_track": str(personal.id), "personal_playlist": str(personal_playlist.id),
                    "personal_share": str(personal_share.id), "personal_grant": str(personal_grant.id),
                    "comment_id": str(comment.id)}}


def _path(rule, ids):
    path = rule
    for name, value in {**ids, **PLAIN_ARGS}.items():
        path = path.replace(f"<{name}>", value)
    assert "<" not in path, f"{rule}: the isolation walk has no value for an argument; add one"
    return path


def _call(client, method, path, token):
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    data = {"title": "x", "name": "x", "target": "me", "track_id": "x", "recipient": "x@example.com", "role": "admin"}
    return client.open(path, method=method, headers=headers, data=data)


@pytest.mark.parametrize("rule,method", RULES)
def test_a_stranger_gets_404_with_another_bands_ids(app, client, world, rule, method):
    sign_in(client, "alice@example.com")
    response = _call(client, method, _path(rule, world["ids"]), csrf(client, "/w/me"))
    assert response.status_code == 404, f"{method} {rule} answered {response.status_code} to a non-member"


@pytest.mark.parametrize("rule,method", [(r, m) for r, m in RULES if "<ws>" in r and r.count("<") > 1])
def test_another_users_personal_objects_are_404_in_your_own_workspace(app, client, world, rule, method):
    ids = dict(world["ids"], ws="me", track_id=world["ids"]["personal_track"],
               playlist_id=world["ids"]["personal_playlist"], share_id=world["ids"]["personal_share"],
               grant_id=world["ids"]["personal_grant"])
    sign_in(client, "alice@example.com")
    response = _call(client, method, _path(rule, ids), csrf(client, "/w/me"))
    assert response.status_code == 404, f"{method} {rule} reached someone else's personal object"


# Admin pages answer 404 to every non-admin, members included (tests/test_admin.py shows they open for admins).
@pytest.mark.parametrize("rule,method", [(r, m) for r, m in RULES if m == "GET" and not r.startswith("/admin/")])
def test_the_same_pages_work_for_a_member(app, client, world, rule, method):
    sign_in(client, "bob@example.com")
    response = _call(client, method, _path(rule, world["ids"]), csrf(client, "/w/me"))
    assert response.status_code in (200, 204, 206, 302), f"GET {rule} answered {response.status_code} to a member"


def test_unknown_ids_get_the_same_404_as_hidden_ones(app, client, world):
    sign_in(client, "alice@example.com")
    hidden = client.get(f"/w/{world['ids']['ws']}/tracks/{world['ids']['track_id']}/stream")
    unknown = client.get("/w/00000000-0000-0000-0000-000000000000/tracks/00000000-0000-0000-0000-000000000001/stream")
    garbage = client.get("/w/not-a-uuid/tracks/also-not/stream")
    assert hidden.status_code == unknown.status_code == garbage.status_code == 404
    assert without_csrf(hidden.data) == without_csrf(unknown.data) == without_csrf(garbage.data)
