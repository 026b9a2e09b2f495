"""What the admin pages show and the few changes admins make, each recorded with who and when."""
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from coretet.extensions import db
from coretet.models import AdminAction, Profile, SmsCredit, SmsMessage, StripeEvent, utcnow
from coretet.services.phone import PhoneDecryptError, decrypt_phone, mask
from coretet.services.workspaces import Forbidden

PAGE_SIZE = 100
MAX_GRANT = 1000
SMS_STATUSES = ("pending", "queued", "sending", "sent", "delivered", "failed", "undelivered")


@dataclass(frozen=True)
class UserRow:
    profile: Profile
    monthly_left: int | None  # None: no period opened yet this month (it opens on first use)


def users(query="", today=None):
    """Accounts matching a search of name or email, newest first, with this period's credits left."""
    today = today or utcnow().date()
    period = (select(SmsCredit.profile_id, (SmsCredit.credits_total - SmsCredit.credits_used).label("left"))
              .where(SmsCredit.period_start <= today, SmsCredit.period_end > today).subquery())
    statement = (select(Profile, period.c.left).outerjoin(period, period.c.profile_id == Profile.id)
                 .order_by(Profile.created_at.desc()).limit(PAGE_SIZE))
    query = (query or "").strip()[:100]
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(func.lower(Profile.email).like(pattern, escape="\\"),
                                        func.lower(Profile.name).like(pattern, escape="\\")))
    return [UserRow(profile, left) for profile, left in db.session.execute(statement)]


def get_user(profile_id):
    try:
        return db.session.get(Profile, uuid.UUID(str(profile_id)))
    except ValueError:
        return None


def record(admin, target, action, **details):
    db.session.add(AdminAction(admin_id=admin.id if admin else None,
                               target_profile_id=target.id if target else None, action=action, details=details))


def grant_credits(admin, target, amount, note):
    """Give purchased-type credits (they never expire) and record it."""
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_GRANT:
        raise Forbidden(f"Grant between 1 and {MAX_GRANT} credits.")
    db.session.execute(update(Profile).where(Profile.id == target.id)
                       .values(purchased_sms_credits=Profile.purchased_sms_credits + amount)
                       .execution_options(synchronize_session=False))
    record(admin, target, "grant_sms_credits", amount=amount, note=note.strip()[:200])
    db.session.commit()
    db.session.refresh(target)


def set_admin(admin, target, make_admin):
    """Make someone an admin or take it away; admins cannot remove themselves (no lock-out)."""
    if target.id == admin.id and not make_admin:
        raise Forbidden("You can't remove your own admin access.")
    if target.is_admin == make_admin:
        return
    target.is_admin = make_admin
    record(admin, target, "promote_admin" if make_admin else "demote_admin")
    db.session.commit()


def actions(target=None, limit=PAGE_SIZE):
    """Recorded admin actions, newest first, with the admin's and target's profiles."""
    admin_profile = aliased(Profile)
    target_profile = aliased(Profile)
    statement = (select(AdminAction, admin_profile, target_profile)
                 .outerjoin(admin_profile, admin_profile.id == AdminAction.admin_id)
                 .outerjoin(target_profile, target_profile.id == AdminAction.target_profile_id)
                 .order_by(AdminAction.created_at.desc()).limit(limit))
    if target is not None:
        statement = statement.where(AdminAction.target_profile_id == target.id)
    return db.session.execute(statement).all()


@dataclass(frozen=True)
class SmsRow:
    message: SmsMessage
    sender: Profile | None
    to: str


def sms_log(keys, status=None, limit=PAGE_SIZE):
    """Text messages newest first, numbers masked, optionally of one status."""
    statement = (select(SmsMessage, Profile).outerjoin(Profile, Profile.id == SmsMessage.profile_id)
                 .order_by(SmsMessage.created_at.desc()).limit(limit))
    if status in SMS_STATUSES:
        statement = statement.where(SmsMessage.status == status)
    rows = []
    for message, sender in db.session.execute(statement):
        try:
            to = mask(decrypt_phone(message.to_encrypted, keys.phone_encryption))
        except PhoneDecryptError:
            to = "unreadable"
        rows.append(SmsRow(message, sender, to))
    return rows


def sms_counts():
    return dict(db.session.execute(select(SmsMessage.status, func.count()).group_by(SmsMessage.status)).all())


def stripe_events(limit=PAGE_SIZE):
    return db.session.scalars(select(StripeEvent).order_by(StripeEvent.received_at.desc()).limit(limit)).all()


def refunded_count():
    return db.session.scalar(select(func.count()).where(and_(SmsMessage.refunded_at.is_not(None))))
