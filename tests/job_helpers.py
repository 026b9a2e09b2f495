"""Job functions for queue tests; importable by name, as RQ requires."""
import uuid

from coretet.extensions import db
from coretet.models import Profile


def promote(profile_id):
    """A job with a visible effect: make the profile an admin."""
    profile = db.session.get(Profile, uuid.UUID(profile_id))
    profile.is_admin = True
    db.session.commit()
