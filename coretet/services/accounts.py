"""Accounts and sign-in sessions: passwords, server-side sessions that logout really ends."""
import uuid

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from coretet.extensions import db
from coretet.models import LoginSession, Profile, utcnow

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
