"""Bands (shared workspaces), their members and invitations."""
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coretet.models.base import Base, Timestamps, UTCDateTime, created_at, uuid_pk
from coretet.services.tiers import get_tier

ROLES = ("owner", "admin", "member")
ROLES_CHECK = "role IN ('owner', 'admin', 'member')"


class Band(Timestamps, Base):
    """A shared workspace with its own storage quota."""

    __tablename__ = "bands"
    __table_args__ = (
        CheckConstraint("storage_used >= 0", name="storage_used_non_negative"),
        CheckConstraint("storage_limit >= 0", name="storage_limit_non_negative"),
        CheckConstraint("max_members >= 1", name="max_members_positive"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL"), index=True
    )
    storage_used: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    storage_limit: Mapped[int] = mapped_column(
        BigInteger, default=lambda: get_tier("band").band_storage_bytes, nullable=False
    )
    max_members: Mapped[int] = mapped_column(
        Integer, default=lambda: get_tier("band").members_per_band, nullable=False
    )
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    members = relationship("BandMember", back_populates="band", lazy="raise_on_sql")


class BandMember(Base):
    """A profile's membership of a band, with its role."""

    __tablename__ = "band_members"
    __table_args__ = (
        UniqueConstraint("band_id", "profile_id", name="uq_band_members_band_profile"),
        CheckConstraint(ROLES_CHECK, name="role_valid"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    band_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bands.id", ondelete="CASCADE"), nullable=False
    )
    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member", nullable=False)
    joined_at: Mapped[datetime] = created_at()

    band = relationship("Band", back_populates="members", lazy="raise_on_sql")
    profile = relationship("Profile", back_populates="memberships", lazy="raise_on_sql")


class BandInvite(Base):
    """A 7-day, single-use invitation by email or phone; only the token's hash is stored."""

    __tablename__ = "band_invites"
    __table_args__ = (
        CheckConstraint(ROLES_CHECK, name="role_valid"),
        CheckConstraint(
            "email IS NOT NULL OR phone_blind_index IS NOT NULL", name="has_recipient"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    band_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bands.id", ondelete="CASCADE"), nullable=False, index=True
    )
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone_blind_index: Mapped[str | None] = mapped_column(String(64))
    phone_encrypted: Mapped[str | None] = mapped_column(String(512))
    role: Mapped[str] = mapped_column(String(16), default="member", nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at()
