"""A share of the demo user's playlist with one grant whose code we know, written straight to the database."""
import uuid

from common import DEMO_EMAIL

PHONE = "+12015550199"
CODE = "A7K9M2"


def make_listen_share(app, title="Solo sketches"):
    """(token, code) of a fresh share of the demo playlist `title`, with one grant for PHONE."""
    from sqlalchemy import select

    from coretet.extensions import db
    from coretet.models import AccessGrant, Playlist, Profile, SharedPlaylist
    from coretet.services import codes
    from coretet.services.keys import keys_from_config
    from coretet.services.phone import blind_index, encrypt_phone

    with app.app_context():
        keys = keys_from_config(app.config)
        alex = db.session.scalar(select(Profile).where(Profile.email == DEMO_EMAIL))
        playlist = db.session.scalar(select(Playlist).where(Playlist.title == title,
                                                            Playlist.created_by == alex.id))
        share = SharedPlaylist(playlist_id=playlist.id, shared_by=alex.id, share_token=codes.generate_token(),
                               total_access_grants=1)
        db.session.add(share)
        db.session.flush()
        grant_id = uuid.uuid4()
        db.session.add(AccessGrant(
            id=grant_id, shared_playlist_id=share.id, recipient_label="Bench listener",
            phone_blind_index=blind_index(PHONE, keys.phone_hmac),
            phone_encrypted=encrypt_phone(PHONE, keys.phone_encryption),
            code_hash=codes.hash_code(CODE, keys.code_hmac, context=grant_id),
        ))
        db.session.commit()
        return share.share_token, CODE
