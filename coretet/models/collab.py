"""Band collaboration: per-member engagement with a track and comments on it (SPEC §9)."""
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint, Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from coretet.models.base import Base, Timestamps, UTCDateTime, uuid_pk

REACTIONS = ("liked", "loved")


class TrackEngagement(Timestamps, Base):
    """One member's listening and reaction on one track (version)."""

    __tablename__ = "track_engagements"
    __table_args__ = (
        UniqueConstraint("track_id", "profile_id", name="uq_track_engagements_track_profile"),
        CheckConstraint("seconds_listened >= 0", name="seconds_listened_non_negative"),
        CheckConstraint("reaction IS NULL OR reaction IN ('liked', 'loved')", name="reaction_valid"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    track_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Seconds actually played (summed from beacons, capped by wall-clock time between them).
    seconds_listened: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    last_position: Mapped[float | None] = mapped_column(Float)
    last_beacon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reaction: Mapped[str | None] = mapped_column(String(8))


class TrackComment(Timestamps, Base):
    """A comment on one track version: general or at a position, maybe a reply, maybe a voice memo."""

    __tablename__ = "track_comments"
    __table_args__ = (
        CheckConstraint("position_seconds IS NULL OR position_seconds >= 0", name="position_non_negative"),
        CheckConstraint("voice_size >= 0", name="voice_size_non_negative"),
        CheckConstraint(
            "voice_duration IS NULL OR (voice_duration >= 0 AND voice_duration <= 31)",
            name="voice_duration_in_range",
        ),
        Index("ix_track_comments_track_created", "track_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    track_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("track_comments.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    position_seconds: Mapped[float | None] = mapped_column(Float)
    # Voice memo: stored like any audio through the file store; its size reaches
    # the workspace's storage_used via tracks.attached_bytes (database triggers).
    voice_storage_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    voice_size: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    voice_duration: Mapped[float | None] = mapped_column(Float)
    voice_content_type: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
