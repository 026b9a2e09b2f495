"""Accounts and sign-in sessions: passwords, server-side sessions that logout really ends."""
import hashlib
import hmac
import uuid

import phonenumbers
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from coretet.extensions import db
from coretet.models import LoginSession, Profile, utcnow
from coretet.services.phone import blind_index, decrypt_phone, encrypt_phone

# Checked against when no account matches, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000")


def normalise_email(email):
    return (email or "").strip().lower()


def hash_password(password):
    """scrypt through werkzeug (memory-hard)."""
    return generate_password_hash(password)


def authenticate(email, password):
    """The profile for these credentials, or None; the same work is done either way."""
    profile = db.session.scalar(select(Profile).where(Profile.email == normalise_email(email)))
    if profile is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return profile if check_password_hash(profile.password_hash, password or "") else None


def start_session(profile, user_agent=None, remember=False):
    """A new server-side session row; its random id is what the cookie carries."""
    login = LoginSession(profile_id=profile.id, user_agent=(user_agent or "")[:255], remember=remember)
    db.session.add(login)
    profile.last_active_at = utcnow()
    db.session.commit()
    profile.current_session_id = login.id
    return login


def load_session(session_id):
    """The signed-in profile for a session id from a cookie, or None if that session has ended."""
    try:
        session_uuid = uuid.UUID(str(session_id))
    except ValueError:
        return None
    row = db.session.execute(
        select(LoginSession, Profile)
        .join(Profile, Profile.id == LoginSession.profile_id)
        .where(LoginSession.id == session_uuid)
    ).first()
    if row is None:
        return None
    login, profile = row
    profile.current_session_id = login.id
    return profile


def end_session(session_id):
    db.session.execute(delete(LoginSession).where(LoginSession.id == session_id))
    db.session.commit()


def end_other_sessions(profile, keep_session_id):
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.profile_id == profile.id, LoginSession.id != keep_session_id
        )
    )
    db.session.commit()


def email_taken(email):
    return db.session.scalar(select(Profile.id).where(Profile.email == normalise_email(email))) is not None


# Account phones at rest: a keyed blind index (unique, for lookups) and a Fernet
# ciphertext (for display); never the number in clear. Callers normalise input with
# phone.parse_phone first, so every way of typing a number gives the same index.

def _is_e164(value):
    """True for a number already in canonical E.164 ("+12015550123"), as parse_phone returns it."""
    try:
        number = phonenumbers.parse(value, None)
    except (phonenumbers.NumberParseException, TypeError):
        return False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value


def set_phone(profile, e164, keys):
    """Store this E.164 number on the account (None removes it); the caller flushes or commits."""
    if e164 is None:
        profile.phone_blind_index = profile.phone_encrypted = None
        return
    if not _is_e164(e164):
        raise ValueError("set_phone needs a number in E.164 form; parse what the user typed with parse_phone")
    profile.phone_blind_index = blind_index(e164, keys.phone_hmac)
    profile.phone_encrypted = encrypt_phone(e164, keys.phone_encryption)


def phone_of(profile, keys):
    """The account's number in E.164, or None; raises PhoneDecryptError if no configured key opens it."""
    if profile.phone_encrypted is None:
        return None
    return decrypt_phone(profile.phone_encrypted, keys.phone_encryption)


def find_by_phone(e164, keys):
    """The account holding this E.164 number, or None."""
    return db.session.scalar(select(Profile).where(Profile.phone_blind_index == blind_index(e164, keys.phone_hmac)))


def phone_taken(e164, keys, except_profile=None):
    """True when another account has this number."""
    query = select(Profile.id).where(Profile.phone_blind_index == blind_index(e164, keys.phone_hmac))
    if except_profile is not None:
        query = query.where(Profile.id != except_profile.id)
    return db.session.scalar(query) is not None


class AccountError(Exception):
    """A change to an account that cannot be made; the message is for the user."""


def create_account(email, password, name):
    """A new free account. The phone joins it only once its code is verified."""
    profile = Profile(email=normalise_email(email), password_hash=hash_password(password),
                      name=name.strip(), tier="free")
    db.session.add(profile)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise AccountError("An account with this email already exists. Sign in instead?") from exc
    return profile


def attach_verified_phone(profile, e164, keys):
    """Give the account this number, now proven to be theirs; refuses one taken meanwhile."""
    if phone_taken(e164, keys, except_profile=profile):
        raise AccountError("This number already belongs to another account.")
    set_phone(profile, e164, keys)
    profile.phone_verified_at = utcnow()
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise AccountError("This number already belongs to another account.") from exc


def set_password(profile, password):
    profile.password_hash = hash_password(password)


def check_password(profile, password):
    return check_password_hash(profile.password_hash, password or "")


# Signed links by email. Each carries a fingerprint of state that the link itself
# changes, so a used link no longer matches: single use without a table.
RESET_MAX_AGE = 3600
EMAIL_CHANGE_MAX_AGE = 24 * 3600


def _serializer(secret, purpose):
    return URLSafeTimedSerializer(secret, salt=f"coretet-{purpose}")


def _fingerprint(value):
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def password_reset_token(secret, profile):
    return _serializer(secret, "password-reset").dumps(
        {"id": str(profile.id), "pw": _fingerprint(profile.password_hash)}
    )


def profile_for_reset_token(secret, token):
    """The profile a valid, unused, under-an-hour-old reset link belongs to, else None."""
    try:
        data = _serializer(secret, "password-reset").loads(token, max_age=RESET_MAX_AGE)
        profile = db.session.get(Profile, uuid.UUID(data["id"]))
    except (BadData, KeyError, ValueError, TypeError):
        return None
    if profile is None or not hmac.compare_digest(data.get("pw", ""), _fingerprint(profile.password_hash)):
        return None
    return profile


def email_change_token(secret, profile, new_email):
    return _serializer(secret, "email-change").dumps(
        {"id": str(profile.id), "old": _fingerprint(profile.email), "new": normalise_email(new_email)}
    )


def apply_email_change(secret, token):
    """Switch the account to the confirmed address; returns the profile or raises AccountError."""
    try:
        data = _serializer(secret, "email-change").loads(token, max_age=EMAIL_CHANGE_MAX_AGE)
        profile = db.session.get(Profile, uuid.UUID(data["id"]))
    except (BadData, KeyError, ValueError, TypeError) as exc:
        raise AccountError("This link is not valid or has expired.") from exc
    if profile is None or not hmac.compare_digest(data.get("old", ""), _fingerprint(profile.email)):
        raise AccountError("This link has already been used.")
    if email_taken(data["new"]):
        raise AccountError("Another account uses that email now.")
    profile.email = data["new"]
    db.session.flush()
    return profile
