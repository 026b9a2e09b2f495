"""Money and allowances: SMS credit periods and purchases, Stripe events, waitlist, admin log."""
import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from coretet.models.base import Base, UTCDateTime, created_at, updated_at, uuid_pk


class SmsCredit(Base):
    """One monthly SMS allowance period of one profile."""

    __tablename__ = "sms_credits"
    __table_args__ = (
        UniqueConstraint("profile_id", "period_start", name="uq_sms_credits_profile_period"),
        CheckConstraint("credits_total >= 0", name="credits_total_non_negative"),
        CheckConstraint(
            "credits_used >= 0 AND credits_used <= credits_total", name="credits_used_in_range"
        ),
        CheckConstraint("period_end > period_start", name="period_ordered"),
        Index("ix_sms_credits_profile_period_end", "profile_id", "period_end"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)  # exclusive
    credits_total: Mapped[int] = mapped_column(Integer, nullable=False)
    credits_used: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    @property
    def credits_remaining(self):
        return self.credits_total - self.credits_used


class SmsCreditPurchase(Base):
    """A paid credit pack; the Stripe Checkout session id makes crediting idempotent."""

    __tablename__ = "sms_credit_purchases"
    __table_args__ = (CheckConstraint("credits > 0", name="credits_positive"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    pack: Mapped[str] = mapped_column(String(16), nullable=False)
    credits: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_cents: Mapped[int] = mapped_column(Integer, nullable=False)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = created_at()


class StripeEvent(Base):
    """A processed Stripe webhook event; the primary key makes each event apply once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[datetime] = created_at()
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(255))


class ProducerWaitlist(Base):
    """Someone waiting for the Producer tier; one entry per email."""

    __tablename__ = "producer_waitlist"

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    profile_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at()


class AdminAction(Base):
    """Who changed what about a user from the admin pages, and when."""

    __tablename__ = "admin_actions"

    id: Mapped[uuid.UUID] = uuid_pk()
    admin_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL")
    )
    target_profile_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[datetime] = created_at()
