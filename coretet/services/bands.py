"""Bands: the tier gate, members, roles and invitations. Changes commit, so row locks last until then."""
import hashlib
from collections import namedtuple
from datetime import timedelta

from sqlalchemy import and_, func, select

from coretet.extensions import db
from coretet.models import Band, BandInvite, BandMember, Profile, utcnow
from coretet.models.band import ROLES
from coretet.services import codes, tiers
from coretet.services.messaging import queue_sms
from coretet.services.phone import blind_index, decrypt_phone, encrypt_phone, mask
from coretet.services.sms_text import SMS_LIMIT, gsm7, shorten
from coretet.services.workspaces import Forbidden, NotFound, parse_id

INVITE_DAYS = 7
NAME_MAX = 80
_RANK = {role: index for index, role in enumerate(ROLES)}

# A sent invite and its one-time token; only the token's hash is stored.
Invitation = namedtuple("Invitation", "invite token link")


class BandError(Forbidden):
    """A refusal: str(error) tells the user why; `status` suits it; `decision` is set when a tier limit hit."""

    def __init__(self, message, status=409, decision=None):
        super().__init__(message)
        self.status, self.decision = status, decision


def token_hash(token):
    """sha256 of an invite token: enough for 256 random bits, and what the table stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_name(name):
    """A band name with spaces collapsed, or BandError saying what is wrong with it."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise BandError("Give the band a name.", 422)
    if len(cleaned) > NAME_MAX:
        raise BandError(f"Band names can be up to {NAME_MAX} characters.", 422)
    if not cleaned.isprintable():
        raise BandError("Use letters, numbers and punctuation only.", 422)
    return cleaned


def bands_created(profile):
    """Bands this profile created and still owns: what the tier's band allowance counts."""
    return db.session.scalar(
        select(func.count(Band.id)).where(Band.created_by == profile.id)
        .join(BandMember, and_(BandMember.band_id == Band.id, BandMember.profile_id == profile.id,
                               BandMember.role == "owner")))


def creation_decision(profile):
    return tiers.can_create_band(profile.tier, bands_created(profile))


def create_band(profile, name):
    """Create a band owned by `profile`, with the storage and member limits of their tier."""
    name = clean_name(name)
    # Serialise one person's creations so two quick clicks can't both pass the allowance.
    db.session.execute(select(Profile.id).where(Profile.id == profile.id).with_for_update())
    decision = creation_decision(profile)
    if not decision.allowed:
        db.session.rollback()
        raise BandError(decision.reason, 403, decision)
    tier = tiers.get_tier(profile.tier)
    band = Band(name=name, created_by=profile.id, storage_limit=tier.band_storage_bytes,
                max_members=tier.members_per_band)
    db.session.add(band)
    db.session.flush()
    db.session.add(BandMember(band_id=band.id, profile_id=profile.id, role="owner"))
    db.session.commit()
    return band


def rename(workspace, name):
    workspace.require_manager()
    workspace.band.name = clean_name(name)
    db.session.commit()


def members(band):
    """(BandMember, Profile) pairs: owners first, then admins, then members, by name."""
    rows = db.session.execute(select(BandMember, Profile).join(Profile, Profile.id == BandMember.profile_id)
                              .where(BandMember.band_id == band.id)).all()
    return sorted(rows, key=lambda row: (_RANK[row[0].role], row[1].name.lower()))


def get_member(workspace, member_id=None):
    """A (BandMember, Profile) pair of this band (without an id, the caller's own), or NotFound."""
    wanted = None if member_id is None else parse_id(member_id)
    for member, profile in members(workspace.band):
        if member.id == wanted or (wanted is None and profile.id == workspace.profile.id):
            return member, profile
    raise NotFound()


def _count(band_id, *where):
    return db.session.scalar(select(func.count(BandMember.id)).where(BandMember.band_id == band_id, *where))


def _lock(band_id):
    """The band row, locked until the commit: membership changes to one band happen one at a time."""
    return db.session.scalar(select(Band).where(Band.id == band_id).with_for_update()
                             .execution_options(populate_existing=True))


def pending_invites(band, keys):
    """(invite, who) for invites still waiting; phones are shown masked."""
    invites = db.session.scalars(select(BandInvite).where(
        BandInvite.band_id == band.id, BandInvite.accepted_at.is_(None),
        BandInvite.revoked_at.is_(None), BandInvite.expires_at > utcnow(),
    ).order_by(BandInvite.created_at.desc())).all()
    return [(invite, invite.email or mask(decrypt_phone(invite.phone_encrypted, keys.phone_encryption)))
            for invite in invites]


def _new_invite(workspace, link_for, already_member, same_recipient, **recipient):
    """Check the caller may invite, withdraw any live invite to the same recipient, add a new one."""
    workspace.require_manager()
    workspace.require_writable("invite new members")
    band, now = workspace.band, utcnow()
    if already_member:
        raise BandError(f"They're already in {band.name}.", 422)
    if _count(band.id) >= band.max_members:
        raise BandError(f"The band is full ({band.max_members} members). Remove someone to invite more.")
    for old in db.session.scalars(select(BandInvite).where(
            BandInvite.band_id == band.id, BandInvite.accepted_at.is_(None),
            BandInvite.revoked_at.is_(None), same_recipient)):
        old.revoked_at = now  # inviting again resends: only the newest link works
    token = codes.generate_token()
    invite = BandInvite(band_id=band.id, invited_by=workspace.profile.id, token_hash=token_hash(token),
                        expires_at=now + timedelta(days=INVITE_DAYS), **recipient)
    db.session.add(invite)
    db.session.flush()
    return Invitation(invite, token, link_for(token))


def invite_by_email(workspace, email, *, link_for, send):
    """Invite a validated, lower-cased address; send(invitation) emails it once the invite is saved."""
    is_member = any(profile.email == email for _, profile in members(workspace.band))
    invitation = _new_invite(workspace, link_for, is_member, BandInvite.email == email, email=email)
    db.session.commit()
    send(invitation)
    return invitation


def invite_by_phone(workspace, e164, *, keys, link_for):
    """Invite a validated E.164 number; the worker sends the SMS after the commit."""
    index = blind_index(e164, keys.phone_hmac)
    is_member = any(profile.phone_blind_index == index for _, profile in members(workspace.band))
    invitation = _new_invite(workspace, link_for, is_member, BandInvite.phone_blind_index == index,
                             phone_blind_index=index, phone_encrypted=encrypt_phone(e164, keys.phone_encryption))
    queue_sms(keys, e164, invite_sms(workspace.profile.name, workspace.band.name, invitation.link),
              purpose="band_invite", profile_id=workspace.profile.id)
    db.session.commit()
    return invitation


def invite_sms(inviter_name, band_name, link):
    """'CoreTet: Alex invited you to join "Band" on CoreTet: <link>', names shortened to fit."""
    words = gsm7(inviter_name).split()
    inviter = shorten(words[0] if words else "A bandmate", 20)
    template = 'CoreTet: {} invited you to join "{}" on CoreTet: {}'
    room = SMS_LIMIT - len(template.format(inviter, "", link))
    if room >= 6:
        return template.format(inviter, shorten(gsm7(band_name) or "a band", room), link)
    # Only an unusually long base URL gets here; the link matters more than the names.
    return f"CoreTet band invite: {link}"


def find_invite(token):
    """(invite, band, inviter name) for a usable token, or BandError saying why it can't be used."""
    invite = db.session.scalar(select(BandInvite).where(BandInvite.token_hash == token_hash(token or "")))
    if invite is None:
        raise BandError("This invite link is not valid. Check you opened all of it, or ask for a new one.", 404)
    _check_usable(invite)
    inviter = db.session.get(Profile, invite.invited_by) if invite.invited_by else None
    return invite, db.session.get(Band, invite.band_id), inviter.name if inviter else "A bandmate"


def _check_usable(invite):
    if invite.accepted_at is not None:
        raise BandError("This invite has already been used. Each invite link works once.", 410)
    if invite.revoked_at is not None:
        raise BandError("This invite was withdrawn by the band. Ask them for a new one.", 410)
    if invite.expires_at <= utcnow():
        raise BandError(f"This invite has expired (invites last {INVITE_DAYS} days). Ask for a new one.", 410)


def _check_recipient(invite, profile, keys):
    if invite.email is not None and invite.email != profile.email.lower():
        raise BandError("This invite is for another email address. Sign in with the account it was sent to.", 403)
    if invite.email is None and not (profile.phone_verified and invite.phone_blind_index
                                     == profile.phone_blind_index):
        raise BandError("This invite is for a phone that isn't verified on your account. Verify it in settings.", 403)


def accept_invite(token, profile, keys):
    """Join the band the token invites to; the member limit is checked under a lock on the band."""
    invite, _, _ = find_invite(token)
    _check_recipient(invite, profile, keys)
    band = _lock(invite.band_id)  # concurrent acceptances queue here, so the count can't go stale
    invite = db.session.scalar(select(BandInvite).where(BandInvite.id == invite.id)
                               .with_for_update().execution_options(populate_existing=True))
    try:
        _check_usable(invite)
        if band.read_only:
            raise BandError(f"{band.name} is read-only right now, so it can't take new members.", 403)
        if _count(band.id, BandMember.profile_id == profile.id):
            raise BandError(f"You're already a member of {band.name}.")
        if _count(band.id) >= band.max_members:
            raise BandError(f"{band.name} is full ({band.max_members} members). Ask the band to make room.")
    except BandError:
        db.session.rollback()
        raise
    db.session.add(BandMember(band_id=band.id, profile_id=profile.id, role=invite.role))
    invite.accepted_at, invite.accepted_by = utcnow(), profile.id
    db.session.commit()
    return band


def revoke_invite(workspace, invite_id):
    workspace.require_manager()
    invite = db.session.scalar(select(BandInvite).where(
        BandInvite.id == parse_id(invite_id), BandInvite.band_id == workspace.band.id))
    if invite is None:
        raise NotFound()
    if invite.accepted_at is None and invite.revoked_at is None:
        invite.revoked_at = utcnow()
    db.session.commit()


def remove_member(workspace, member_id):
    """Owners and admins remove others; nobody removes an owner."""
    workspace.require_manager()
    member, _ = get_member(workspace, member_id)
    if member.role == "owner":
        raise BandError("The band's owner can't be removed.", 403)
    db.session.delete(member)
    db.session.commit()


def _refuse_if_last_owner(member, message):
    """Keep at least one owner; the caller holds the band lock so two owners can't both step away."""
    if member.role == "owner" and _count(member.band_id, BandMember.role == "owner") == 1:
        db.session.rollback()
        raise BandError(message, 403)


def leave_band(workspace):
    """Leave the band; its last owner must hand ownership on first."""
    _lock(workspace.band.id)
    member, _ = get_member(workspace)
    _refuse_if_last_owner(member, "You're the band's only owner. Make another member an owner before you leave.")
    db.session.delete(member)
    db.session.commit()


def change_role(workspace, member_id, role):
    """Owners set roles; the band always keeps at least one owner."""
    if workspace.role != "owner":
        raise Forbidden("Only the band's owner can change roles.")
    if role not in ROLES:
        raise BandError("Choose owner, admin or member.", 422)
    _lock(workspace.band.id)
    member, _ = get_member(workspace, member_id)
    if role != "owner":
        _refuse_if_last_owner(member, "The band needs an owner. Make someone else owner first.")
    member.role = role
    db.session.commit()
