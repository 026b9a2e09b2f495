"""SMS sharing: a share of a playlist, one grant per recipient, and what each grant listened to."""
import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coretet.models.base import Base, Timestamps, UTCDateTime, created_at, updated_at, uuid_pk


class SharedPlaylist(Timestamps, Base):
    """A share of one playlist; reached through an unguessable token."""

    __tablename__ = "shared_playlists"
    __table_args__ = (
        CheckConstraint("total_access_grants >= 0", name="total_access_grants_non_negative"),
        CheckConstraint("total_plays >= 0", name="total_plays_non_negative"),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_non_negative"),
        Index("ix_shared_playlists_sharer_active", "shared_by", "is_active"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    playlist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("playlists.id", ondelete="CASCADE"), nullable=False, index=True
    )
    shared_by: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    # secrets.token_urlsafe(32): 256 bits.
    share_token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NULL = never
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_access_grants: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    total_plays: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    grants = relationship("AccessGrant", back_populates="share", lazy="raise_on_sql")


class AccessGrant(Timestamps, Base):
    """One recipient of one share. The phone and code are never stored in clear."""

    __tablename__ = "playlist_access_grants"
    __table_args__ = (
        UniqueConstraint(
            "shared_playlist_id", "phone_blind_index", name="uq_playlist_access_grants_share_phone"
        ),
        CheckConstraint("access_count >= 0", name="access_count_non_negative"),
        Index("ix_playlist_access_grants_phone", "phone_blind_index"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    shared_playlist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shared_playlists.id", ondelete="CASCADE"), nullable=False
    )
    # Keyed HMAC-SHA256 of the E.164 number (a blind index, never a plain hash).
    phone_blind_index: Mapped[str] = mapped_column(String(64), nullable=False)
    # Fernet ciphertext of the E.164 number, kept so a new code can be texted.
    phone_encrypted: Mapped[str] = mapped_column(String(512), nullable=False)
    recipient_label: Mapped[str | None] = mapped_column(String(80))
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_revoked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_used: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    first_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    access_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Hash of the random device id given to the first browser that used the code.
    device_hash: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    share = relationship("SharedPlaylist", back_populates="grants", lazy="raise_on_sql")


class GrantListen(Base):
    """How far one recipient got in one track (for the owner's manage view)."""

    __tablename__ = "grant_listens"
    __table_args__ = (
        UniqueConstraint("grant_id", "track_id", name="uq_grant_listens_grant_track"),
        CheckConstraint("max_position_seconds >= 0", name="position_non_negative"),
        CheckConstraint("plays >= 0", name="plays_non_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    grant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("playlist_access_grants.id", ondelete="CASCADE"), nullable=False
    )
    track_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False
    )
    max_position_seconds: Mapped[float] = mapped_column(Float, default=0, nullable=False)
    plays: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
