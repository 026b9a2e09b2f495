"""Admin home. Every admin URL answers 404 to non-admins, as if it did not exist."""
from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import func, select

from coretet.blueprints.admin import bp
from coretet.extensions import db
from coretet.models import Profile, ProducerWaitlist


@bp.before_request
def admins_only():
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(404)


@bp.route("/")
def index():
    counts = {
        "accounts": db.session.scalar(select(func.count()).select_from(Profile)),
        "band_tier": db.session.scalar(select(func.count()).where(Profile.tier == "band")),
        "waitlist": db.session.scalar(select(func.count()).select_from(ProducerWaitlist)),
    }
    return render_template("admin/index.html", counts=counts)
