"""Admin home and the Producer waitlist. Every admin URL answers 404 to non-admins, as if it did not exist."""
import csv
import io

from flask import Response, abort, render_template
from flask_login import current_user
from sqlalchemy import func, select

from coretet.blueprints.admin import bp
from coretet.extensions import db
from coretet.models import Profile, ProducerWaitlist
from coretet.services import waitlist as waitlist_service


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


@bp.get("/waitlist")
def waitlist():
    """The Producer waitlist with signups per week."""
    weeks = waitlist_service.weekly_counts()
    peak = max((count for _, count in weeks), default=0) or 1
    return render_template("admin/waitlist.html", entries=waitlist_service.entries(), weeks=weeks, peak=peak)


@bp.get("/waitlist.csv")
def waitlist_csv():
    """The Producer waitlist as CSV, safe to open in a spreadsheet."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(waitlist_service.csv_rows())
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=producer-waitlist.csv"
    return response
