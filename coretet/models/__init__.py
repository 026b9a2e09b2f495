"""All tables, imported here so Alembic and the app see one metadata."""
from coretet.models.band import Band, BandInvite, BandMember
from coretet.models.base import Base, utcnow
from coretet.models.collab import TrackComment, TrackEngagement
from coretet.models.billing import (
    AdminAction, ProducerWaitlist, SmsCredit, SmsCreditPurchase, StripeEvent,
)
from coretet.models.library import Playlist, PlaylistFollower, PlaylistTrack, Track
from coretet.models.messaging import SmsMessage
from coretet.models.profile import LoginSession, PhoneVerification, Profile
from coretet.models.sharing import AccessGrant, GrantListen, SharedPlaylist

__all__ = [
    "AccessGrant", "AdminAction", "Band", "BandInvite", "BandMember", "Base", "GrantListen",
    "LoginSession", "PhoneVerification", "Playlist", "PlaylistFollower", "PlaylistTrack",
    "ProducerWaitlist", "Profile", "SharedPlaylist", "SmsCredit", "SmsCreditPurchase",
    "SmsMessage", "StripeEvent", "Track", "TrackComment", "TrackEngagement", "utcnow",
]
