"""Bands: the tier gate and its modals, members and roles, invitations and their acceptance."""
import hashlib
import threading
import uuid
from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select, text

from coretet.extensions import db
from coretet.models import Band, BandInvite, BandMember, Profile, utcnow
from coretet.services import bands, tiers, workspaces
from coretet.services.keys import keys_from_config
from tests.auth_helpers import csrf, csrf_from, latest_email, latest_text, link_in, sign_in
from tests.factories import PASSWORD, make_band, make_profile

PHONE = "+12015550177"


def client_for(app, profile):
    client = app.test_client()
    sign_in(client, profile.email)
    return client


def hx(client, method, path, data=None, with_token=True):
    """An htmx request; the CSRF header is what app.js adds to every one."""
    headers = {"HX-Request": "true"}
    if with_token:
        headers["X-CSRFToken"] = csrf_from(client.get("/account").get_data(as_text=True))
    return client.open(path, method=method, headers=headers, data=data)


def email_invite(band, owner, email):
    return bands.invite_by_email(workspaces.resolve(owner, str(band.id)), email,
                                 link_for=lambda t: f"/invites/{t}", send=lambda invitation: None)


def accept(client, token):
    path = f"/invites/{token}"
    return client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))})


def row_of(profile):
    return db.session.scalar(select(BandMember.id).where(BandMember.profile_id == profile.id))


def count(column, *where):
    return db.session.scalar(select(func.count(column)).where(*where))


def role_of(band, profile):
    return db.session.scalar(select(BandMember.role).where(
        BandMember.band_id == band.id, BandMember.profile_id == profile.id))


def test_free_user_cannot_create_band_and_sees_the_upgrade_modal(app):
    client = client_for(app, make_profile(tier="free"))
    page = hx(client, "GET", "/bands/new").get_data(as_text=True)
    band = tiers.get_tier("band")
    assert 'id="upgrade-modal"' in page and "<html" not in page
    assert tiers.can_create_band("free", 0).reason in page
    assert all(figure in page for figure in (band.price_label, tiers.limit_label(band.band_storage_bytes, "bytes"),
               str(band.members_per_band), str(band.sms_credits_per_month), str(band.active_shares)))
    assert 'action="/billing/checkout/band"' in page and "Maybe later" in page
    assert hx(client, "POST", "/bands/new", {"name": "Sneaky"}).status_code == 403
    assert count(Band.id) == 0


def test_band_user_with_a_band_sees_the_producer_waitlist_modal(app):
    owner = make_profile(tier="band")
    make_band(owner)
    page = hx(client_for(app, owner), "GET", "/bands/new").get_data(as_text=True)
    producer = tiers.get_tier("producer")
    assert 'id="waitlist-modal"' in page and 'href="/producer/waitlist"' in page
    assert f"{producer.price_label}</strong>, not sold yet" in page
    assert str(producer.members_per_band) in page and str(producer.sms_credits_per_month) in page


def test_band_user_creates_a_band_and_owns_it(app):
    owner = make_profile(tier="band")
    client = client_for(app, owner)
    assert 'id="new-band-modal"' in hx(client, "GET", "/bands/new").get_data(as_text=True)
    assert 'id="new-band-modal"' in client.get("/bands/new").get_data(as_text=True)
    response = hx(client, "POST", "/bands/new", {"name": "  The   Night Shift "})
    band = db.session.scalar(select(Band))
    with app.test_request_context():
        assert response.headers["HX-Redirect"] == url_for("workspace.home", ws=str(band.id))
    tier = tiers.get_tier("band")
    assert (band.name, band.storage_limit, band.max_members) == (
        "The Night Shift", tier.band_storage_bytes, tier.members_per_band)
    assert role_of(band, owner) == "owner"


def test_producer_creates_several_bands(app):
    producer = make_profile(tier="producer")
    created = [bands.create_band(producer, f"Project {n}") for n in range(3)]
    assert {band.max_members for band in created} == {tiers.get_tier("producer").members_per_band}
    assert bands.bands_created(producer) == 3


def test_email_invite_is_accepted_by_the_invited_account_once(app):
    owner, sam = make_profile(tier="band", name="Alex Rivera"), make_profile(email="sam@example.com")
    band = make_band(owner, name="The Night Shift")
    response = hx(client_for(app, owner), "POST", f"/w/{band.id}/band/invites", {"recipient": "Sam@Example.com"})
    assert "Invite sent to sam@example.com" in response.get_data(as_text=True)
    path = link_in(latest_email(app, to="sam@example.com")["body"]).replace("http://coretet.test", "")
    sams = client_for(app, sam)
    landing = sams.get(path).get_data(as_text=True)
    assert "Alex Rivera" in landing and "The Night Shift" in landing
    assert accept(sams, path.rsplit("/", 1)[1]).status_code == 302 and role_of(band, sam) == "member"
    again = accept(sams, path.rsplit("/", 1)[1])
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_signing_in_from_an_invite_comes_back_to_it(app, client):
    owner, sam = make_profile(tier="band"), make_profile(email="sam@example.com")
    token = email_invite(make_band(owner), owner, sam.email).token
    assert f"/login?next=/invites/{token}" in client.get(f"/invites/{token}").get_data(as_text=True)
    anonymous = client.post(f"/invites/{token}", data={"csrf_token": csrf(client)})
    assert anonymous.headers["Location"].startswith("/login?next=")
    response = client.post(f"/login?next=/invites/{token}",
                           data={"email": sam.email, "password": PASSWORD, "csrf_token": csrf(client)})
    assert response.headers["Location"] == f"/invites/{token}"


def test_the_invite_box_takes_an_email_or_a_phone_and_says_what_is_wrong(app):
    owner = make_profile(tier="band")
    client, band = client_for(app, owner), make_band(owner)
    for typed, message in (("not a thing", "with an @"), ("(201) 555", "too short"), ("sam@", "after the @")):
        response = hx(client, "POST", f"/w/{band.id}/band/invites", {"recipient": typed})
        assert response.status_code == 422 and message in response.get_data(as_text=True), typed
    assert count(BandInvite.id) == 0


def test_phone_invite_sends_one_gsm7_segment_and_the_verified_phone_accepts(app):
    owner, guest = make_profile(tier="band", name="Alex Rivera"), make_profile(phone=PHONE)
    band = make_band(owner, name="The Night Shift")
    hx(client_for(app, owner), "POST", f"/w/{band.id}/band/invites", {"recipient": "(201) 555-0177"})
    sms = latest_text(app, to=PHONE)["body"]
    assert sms.startswith('CoreTet: Alex invited you to join "The Night Shift" on CoreTet: http://')
    assert len(sms) <= 160 and sms == bands.gsm7(sms)
    invite = db.session.scalar(select(BandInvite))
    assert invite.phone_encrypted and PHONE not in invite.phone_encrypted and invite.email is None
    assert accept(client_for(app, guest), link_in(sms).rsplit("/", 1)[1]).status_code == 302
    assert role_of(band, guest) == "member"


def test_invite_sms_shortens_long_names_to_fit():
    link = "https://coretet.app/invites/" + "x" * 43
    body = bands.invite_sms("Zoë 🎸 Bartholomew-Smythe", "Ünïcode “Quoted” Band " * 10, link)
    assert len(body) <= 160 and body == bands.gsm7(body) and body.endswith(link)
    assert body.startswith('CoreTet: Zoe invited you to join "') and '..."' in body


def test_another_account_cannot_use_the_link_nor_an_unverified_phone(app):
    owner, stranger = make_profile(tier="band"), make_profile(phone=PHONE, verified=False)
    band, keys = make_band(owner), keys_from_config(app.config)
    by_email = email_invite(band, owner, "sam@example.com")
    by_phone = bands.invite_by_phone(workspaces.resolve(owner, str(band.id)), PHONE, keys=keys, link_for=str)
    client = client_for(app, stranger)
    response = accept(client, by_email.token)
    assert response.status_code == 403 and "another email address" in response.get_data(as_text=True)
    assert accept(client, by_phone.token).status_code == 403 and role_of(band, stranger) is None
    assert count(BandInvite.id, BandInvite.accepted_at.is_not(None)) == 0


def test_expired_and_revoked_invites_are_refused(app):
    owner, sam = make_profile(tier="band"), make_profile(email="sam@example.com")
    band = make_band(owner)
    expired = email_invite(band, owner, "sam@example.com")
    expired.invite.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sams = client_for(app, sam)
    assert sams.get(f"/invites/{expired.token}").status_code == 410
    assert "expired" in accept(sams, expired.token).get_data(as_text=True)
    revoked = email_invite(band, owner, "sam@example.com")
    assert hx(client_for(app, owner), "DELETE", f"/w/{band.id}/band/invites/{revoked.invite.id}").status_code == 200
    assert "withdrawn" in accept(sams, revoked.token).get_data(as_text=True)
    assert sams.get(f"/invites/{'x' * 43}").status_code == 404
    assert role_of(band, sam) is None


def test_max_members_is_enforced_at_acceptance(app):
    owner, first, second = make_profile(tier="band"), make_profile(), make_profile()
    band = make_band(owner, max_members=2)
    invites = [email_invite(band, owner, guest.email) for guest in (first, second)]
    bands.accept_invite(invites[0].token, first, keys_from_config(app.config))
    response = accept(client_for(app, second), invites[1].token)
    assert response.status_code == 409 and "is full" in response.get_data(as_text=True)
    assert count(BandMember.id, BandMember.band_id == band.id) == 2


def test_concurrent_acceptances_fill_exactly_the_free_seat(pg_app):
    owner = make_profile(tier="band")
    band = make_band(owner, max_members=2)
    guests = [make_profile() for _ in range(8)]
    work = [(email_invite(band, owner, guest.email).token, guest.id) for guest in guests]
    barrier, results, keys = threading.Barrier(len(work)), [], keys_from_config(pg_app.config)

    def race(token, profile_id):
        with pg_app.app_context():
            profile = db.session.get(Profile, profile_id)
            barrier.wait()
            try:
                bands.accept_invite(token, profile, keys)
                results.append("joined")
            except bands.BandError as exc:
                results.append(str(exc))

    threads = [threading.Thread(target=race, args=item) for item in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results.count("joined") == 1 and len(results) == len(work)
    assert all("is full" in result for result in results if result != "joined")
    db.session.expire_all()
    assert count(BandMember.id, BandMember.band_id == band.id) == 2


def test_members_cannot_invite_or_remove(app):
    owner, member, other = make_profile(tier="band"), make_profile(), make_profile()
    band = make_band(owner, members=[member, other])
    client = client_for(app, member)
    assert "Invite someone" not in client.get(f"/w/{band.id}/band/members").get_data(as_text=True)
    assert hx(client, "POST", f"/w/{band.id}/band/invites", {"recipient": "x@example.com"}).status_code == 403
    assert hx(client, "DELETE", f"/w/{band.id}/band/members/{row_of(other)}").status_code == 403
    assert role_of(band, other) == "member" and count(BandInvite.id) == 0


def test_admins_remove_members_but_nobody_removes_the_owner(app):
    owner, admin, member = make_profile(tier="band"), make_profile(), make_profile()
    band = make_band(owner, members=[admin, member])
    row = {p.id: row_of(p) for p in (owner, admin, member)}
    owners = client_for(app, owner)
    assert hx(owners, "POST", f"/w/{band.id}/band/members/{row[admin.id]}/role", {"role": "admin"}).status_code == 200
    admins = client_for(app, admin)
    refused = hx(admins, "DELETE", f"/w/{band.id}/band/members/{row[owner.id]}")
    assert refused.status_code == 403 and "owner can&#39;t be removed" in refused.get_data(as_text=True)
    assert hx(admins, "POST", f"/w/{band.id}/band/members/{row[member.id]}/role", {"role": "admin"}).status_code == 403
    removed = hx(admins, "DELETE", f"/w/{band.id}/band/members/{row[member.id]}")
    assert removed.status_code == 200 and removed.get_data(as_text=True) == ""
    assert role_of(band, owner) == "owner" and role_of(band, member) is None


def test_members_leave_but_the_last_owner_cannot(app):
    owner, member = make_profile(tier="band"), make_profile()
    band = make_band(owner, members=[member])
    response = hx(client_for(app, member), "POST", f"/w/{band.id}/band/leave")
    assert response.status_code == 204 and "HX-Redirect" in response.headers and role_of(band, member) is None
    refused = hx(client_for(app, owner), "POST", f"/w/{band.id}/band/leave")
    assert refused.status_code == 403 and "only owner" in refused.get_data(as_text=True)


def test_read_only_band_refuses_invites(app):
    owner = make_profile(tier="band")
    band = make_band(owner, read_only=True)
    response = hx(client_for(app, owner), "POST", f"/w/{band.id}/band/invites", {"recipient": "sam@example.com"})
    assert response.status_code == 403 and response.headers["HX-Retarget"] == "#notices"
    assert "read-only" in response.get_data(as_text=True) and count(BandInvite.id) == 0


def test_non_members_get_the_same_404_as_for_unknown_ids(app):
    owner, member, stranger = make_profile(tier="band"), make_profile(), make_profile(tier="producer")
    band = make_band(owner, members=[member])
    invite, row = email_invite(band, owner, "sam@example.com").invite, row_of(member)
    client = client_for(app, stranger)
    for ws in (str(band.id), str(uuid.uuid4()), "me", "not-a-uuid"):
        for method, tail, data in (
            ("GET", "members", None), ("GET", "name", None), ("GET", "rename", None),
            ("POST", "rename", {"name": "Mine"}), ("POST", "invites", {"recipient": "x@example.com"}),
            ("DELETE", f"invites/{invite.id}", None), ("DELETE", f"members/{row}", None),
            ("POST", f"members/{row}/role", {"role": "owner"}), ("POST", "leave", None),
        ):
            response = hx(client, method, f"/w/{ws}/band/{tail}", data)
            assert response.status_code == 404, (ws, method, tail)
    db.session.expire_all()
    assert db.session.get(Band, band.id).name != "Mine" and role_of(band, member) == "member"


def test_posts_require_the_csrf_token(app):
    owner, member = make_profile(tier="band"), make_profile()
    band = make_band(owner, members=[member])
    token = email_invite(band, owner, owner.email.replace("user", "guest")).token
    client, row = client_for(app, owner), row_of(member)
    for method, path in (("POST", "/bands/new"), ("POST", f"/w/{band.id}/band/invites"),
                         ("POST", f"/w/{band.id}/band/rename"), ("DELETE", f"/w/{band.id}/band/members/{row}"),
                         ("POST", f"/w/{band.id}/band/leave"), ("POST", f"/invites/{token}")):
        assert hx(client, method, path, {"name": "x", "recipient": "a@b.co"}, with_token=False).status_code == 400
    assert role_of(band, member) == "member" and count(BandMember.id, BandMember.band_id == band.id) == 2


def test_invite_tokens_are_stored_only_as_hashes(app):
    owner = make_profile(tier="band")
    invitation = email_invite(make_band(owner), owner, "sam@example.com")
    rows = db.session.execute(text("SELECT * FROM band_invites")).all()
    assert rows and all(invitation.token not in str(value) for row in rows for value in row)
    assert invitation.invite.token_hash == hashlib.sha256(invitation.token.encode()).hexdigest()
