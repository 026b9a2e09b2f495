"""Outbound SMS: one row per message, the unit of sending, retrying and refunding."""
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from coretet.models.base import Base, Timestamps, UTCDateTime, uuid_pk

SMS_PURPOSES = ("share_code", "resend_code", "device_code", "phone_verification", "band_invite")
# Forward order; a status may only move to a later rank (see services/sms status rules).
SMS_STATUSES = (
    "pending", "queued", "sending", "sent", "delivered", "undelivered", "failed", "canceled",
)
CREDIT_SOURCES = ("monthly", "purchased")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SmsMessage(Timestamps, Base):
    """One text to one phone. The number and body are stored only encrypted."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        CheckConstraint(_in("purpose", SMS_PURPOSES), name="purpose_valid"),
        CheckConstraint(_in("status", SMS_STATUSES), name="status_valid"),
        CheckConstraint(
            f"credit_source IS NULL OR {_in('credit_source', CREDIT_SOURCES)}",
            name="credit_source_valid",
        ),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_sms_messages_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    purpose: Mapped[str] = mapped_column(String(24), nullable=False)
    # Who pays (NULL for messages CoreTet sends on its own account, e.g. verification).
    profile_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL"), index=True
    )
    grant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("playlist_access_grants.id", ondelete="SET NULL"), index=True
    )
    to_blind_index: Mapped[str] = mapped_column(String(64), nullable=False)
    to_encrypted: Mapped[str] = mapped_column(String(512), nullable=False)
    # The text holds an access code, so it is kept encrypted and wiped once sent.
    body_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    credit_source: Mapped[str | None] = mapped_column(String(16))
    credit_period_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("sms_credits.id", ondelete="SET NULL")
    )
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
