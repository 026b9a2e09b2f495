"""Tracks and playlists, each in one workspace (personal when band_id is NULL)."""
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON, BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint, Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coretet.models.base import Base, Timestamps, UTCDateTime, created_at, uuid_pk

FOLLOWER_SOURCES = ("manual", "sms_share", "band_member")
ANALYSIS_STATES = ("pending", "running", "done", "failed")


class Track(Timestamps, Base):
    """An uploaded audio file; its size is charged to its workspace by database triggers."""

    __tablename__ = "tracks"
    __table_args__ = (
        CheckConstraint("file_size >= 0", name="file_size_non_negative"),
        CheckConstraint("duration_seconds IS NULL OR duration_seconds >= 0", name="duration_non_negative"),
        CheckConstraint("attached_bytes >= 0", name="attached_bytes_non_negative"),
        CheckConstraint("version_number >= 1", name="version_number_positive"),
        CheckConstraint(
            "analysis_status IN ('pending', 'running', 'done', 'failed')", name="analysis_status_valid"
        ),
        UniqueConstraint("lineage_id", "version_number", name="uq_tracks_lineage_version"),
        Index("ix_tracks_band_created", "band_id", "created_at"),
        Index("ix_tracks_owner_band_created", "created_by", "band_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    content_type: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    band_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("bands.id", ondelete="CASCADE")
    )
    # Bytes of files attached to this track (voice memo comments); the storage
    # triggers charge file_size + attached_bytes, and triggers on track_comments
    # keep this column equal to the sum of the track's voice memos.
    attached_bytes: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)

    # Versions: every version of a song is its own track row (so storage stays
    # trigger-tracked) sharing a lineage_id, which is the first version's id.
    lineage_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    version_number: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    version_notes: Mapped[str] = mapped_column(Text, default="", nullable=False)

    # Worker analysis: waveform peaks (list of floats 0..1) and integrated loudness.
    analysis_status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    analysis_error: Mapped[str | None] = mapped_column(String(255))
    waveform_peaks: Mapped[list | None] = mapped_column(JSON)
    loudness_lufs: Mapped[float | None] = mapped_column(Float)
    analyzed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __init__(self, **kwargs):
        kwargs.setdefault("id", uuid.uuid4())
        kwargs.setdefault("lineage_id", kwargs["id"])
        super().__init__(**kwargs)

    @property
    def is_personal(self):
        return self.band_id is None


class Playlist(Timestamps, Base):
    """An ordered list of tracks from one workspace."""

    __tablename__ = "playlists"
    __table_args__ = (
        Index("ix_playlists_band_created", "band_id", "created_at"),
        Index("ix_playlists_owner_band_created", "created_by", "band_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    band_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("bands.id", ondelete="CASCADE")
    )

    items = relationship(
        "PlaylistTrack", order_by="PlaylistTrack.position", lazy="raise_on_sql",
        cascade="all, delete-orphan",
    )


class PlaylistTrack(Base):
    """A track's place in a playlist."""

    __tablename__ = "playlist_tracks"
    __table_args__ = (
        UniqueConstraint("playlist_id", "track_id", name="uq_playlist_tracks_playlist_track"),
        CheckConstraint("position >= 0", name="position_non_negative"),
        Index("ix_playlist_tracks_playlist_position", "playlist_id", "position"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    playlist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("playlists.id", ondelete="CASCADE"), nullable=False
    )
    track_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    added_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL")
    )
    added_at: Mapped[datetime] = created_at()

    track = relationship("Track", lazy="raise_on_sql")


class PlaylistFollower(Base):
    """A profile that follows a playlist (e.g. one shared with its phone by SMS)."""

    __tablename__ = "playlist_followers"
    __table_args__ = (
        UniqueConstraint("playlist_id", "profile_id", name="uq_playlist_followers_playlist_profile"),
        CheckConstraint(
            "source IN ('manual', 'sms_share', 'band_member')", name="source_valid"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    playlist_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("playlists.id", ondelete="CASCADE"), nullable=False
    )
    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source: Mapped[str] = mapped_column(String(16), default="manual", nullable=False)
    grant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playlist_access_grants.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()
