"""Small helpers shared by the auth views: keys, verifier, sign-in and the email backend."""
from flask import current_app, request, session
from flask_login import login_user

from coretet.extensions import db
from coretet.services import accounts, linking
from coretet.services.email import backend_from_config as email_backend
from coretet.services.keys import keys_from_config
from coretet.services.verification import verifier_from_config


def keys():
    return keys_from_config(current_app.config)


def verifier():
    return verifier_from_config(current_app.config, keys())


def send_email(to, subject, text):
    email_backend(current_app.config).send(to, subject, text)


def sign_in(profile, remember=False):
    """Start a fresh server-side session, claim SMS shares for a verified phone, ask for a phone if none."""
    session.clear()  # nothing from before sign-in carries over (fixation)
    accounts.start_session(profile, request.user_agent.string, remember)
    login_user(profile, remember=remember)
    if profile.phone_verified:
        linking.claim_grants_for(profile, keys())
        db.session.commit()
    else:
        session["phone_prompt"] = True


def safe_next(target):
    """Only same-site paths; never another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
