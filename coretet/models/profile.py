"""Accounts: profiles, their server-side login sessions and phone verification codes."""
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coretet.models.base import Base, Timestamps, UTCDateTime, created_at, utcnow, uuid_pk
from coretet.services.tiers import SUBSCRIPTION_STATUSES, TIER_KEYS, get_tier


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Profile(UserMixin, Timestamps, Base):
    """A CoreTet account (the docs call users 'profiles')."""

    __tablename__ = "profiles"
    __table_args__ = (
        CheckConstraint(_in("tier", TIER_KEYS), name="tier_valid"),
        CheckConstraint(
            f"subscription_status IS NULL OR {_in('subscription_status', SUBSCRIPTION_STATUSES)}",
            name="subscription_status_valid",
        ),
        CheckConstraint("storage_used >= 0", name="storage_used_non_negative"),
        CheckConstraint("storage_limit >= 0", name="storage_limit_non_negative"),
        CheckConstraint("purchased_sms_credits >= 0", name="purchased_credits_non_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    # The phone never sits here in clear (coretet.services.accounts.set_phone / phone_of):
    # a keyed HMAC of its E.164 form, unique, for lookups and "this number is taken",
    # and the number itself encrypted for display. Both NULL for accounts without a phone.
    phone_blind_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_encrypted: Mapped[str | None] = mapped_column(String(512))
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    tier: Mapped[str] = mapped_column(String(16), default="free", nullable=False)
    storage_used: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    storage_limit: Mapped[int] = mapped_column(
        BigInteger, default=lambda: get_tier("free").personal_storage_bytes, nullable=False
    )
    purchased_sms_credits: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    subscription_status: Mapped[str | None] = mapped_column(String(32))
    trial_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_prompt_dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships = relationship("BandMember", back_populates="profile", lazy="raise_on_sql")

    # Flask-Login stores the login session's id, not the profile id, so that a
    # session ended on the server cannot be replayed from an old cookie.
    current_session_id = None

    def get_id(self):
        return str(self.current_session_id) if self.current_session_id else None

    @property
    def phone_verified(self):
        return self.phone_blind_index is not None and self.phone_verified_at is not None


class LoginSession(Base):
    """One signed-in browser; deleting the row ends that session everywhere."""

    __tablename__ = "login_sessions"

    id: Mapped[uuid.UUID] = uuid_pk()
    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    remember: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class PhoneVerification(Base):
    """A 6-digit phone code: stored hashed, 10-minute life, single use, 5 checks."""

    __tablename__ = "phone_verifications"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_phone_verifications_phone_sent", "phone_blind_index", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    profile_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    phone_blind_index: Mapped[str] = mapped_column(String(64), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at()
