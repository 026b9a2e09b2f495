"""Factories for SMS shares and grants, stored as SPEC §6 says (keyed hashes, encrypted phone)."""
import uuid

from coretet.extensions import db
from coretet.models import AccessGrant, SharedPlaylist
from coretet.services import codes
from coretet.services.keys import keys_from_config
from coretet.services.phone import blind_index, encrypt_phone
from tests.factories import make_playlist


def make_share(owner, playlist=None, title=None, **fields):
    share = SharedPlaylist(
        playlist_id=(playlist or make_playlist(owner, title=title)).id,
        shared_by=owner.id, share_token=codes.generate_token(), **fields,
    )
    db.session.add(share)
    db.session.commit()
    return share


def add_grant(share, phone, keys, code=None, **fields):
    """A grant for one phone; the plain code is returned on the row as `.plain_code` for tests."""
    grant_id = uuid.uuid4()
    code = code or codes.generate_code()
    grant = AccessGrant(
        id=grant_id, shared_playlist_id=share.id,
        phone_blind_index=blind_index(phone, keys.phone_hmac),
        phone_encrypted=encrypt_phone(phone, keys.phone_encryption),
        code_hash=codes.hash_code(code, keys.code_hmac, context=grant_id),
        **fields,
    )
    db.session.add(grant)
    db.session.commit()
    grant.plain_code = code
    return grant


def make_grant(app, owner, phone, title=None, **fields):
    """A new share of a new playlist, with one grant for `phone`."""
    return add_grant(make_share(owner, title=title), phone, keys_from_config(app.config), **fields)
