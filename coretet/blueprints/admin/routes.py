"""Admin pages: users, SMS log, Stripe events, audit log, Producer waitlist. Every admin URL answers 404
to non-admins, as if it did not exist."""
import csv
import io

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from coretet.blueprints.admin import bp
from coretet.extensions import db
from coretet.models import Profile, ProducerWaitlist, SmsMessage
from coretet.htmx import render
from coretet.services import admin, sms_credits
from coretet.services import waitlist as waitlist_service
from coretet.services.keys import keys_from_config
from coretet.services.workspaces import Forbidden


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
        "past_due": db.session.scalar(select(func.count()).where(
            Profile.subscription_status.in_(("past_due", "unpaid")))),
        "sms_failed": db.session.scalar(select(func.count()).where(SmsMessage.status == "failed")),
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


@bp.get("/users")
def users():
    query = request.args.get("q", "")
    return render("admin/users.html", "admin/_user_rows.html", rows=admin.users(query), query=query,
                  page_size=admin.PAGE_SIZE)


def _user_or_404(profile_id):
    profile = admin.get_user(profile_id)
    if profile is None:
        abort(404)
    return profile


def _user_page(profile, status=200, error=None):
    return render_template("admin/user.html", user=profile, balance=sms_credits.balance(profile),
                           actions=admin.actions(target=profile), error=error,
                           max_grant=admin.MAX_GRANT), status


@bp.get("/users/<profile_id>")
def user(profile_id):
    profile = _user_or_404(profile_id)
    response = _user_page(profile)
    db.session.commit()  # balance() may have opened this month's credit period
    return response


@bp.post("/users/<profile_id>/credits")
def grant_credits(profile_id):
    profile = _user_or_404(profile_id)
    try:
        amount = int(request.form.get("amount", ""))
    except ValueError:
        amount = None
    try:
        admin.grant_credits(current_user, profile, amount, request.form.get("note", ""))
    except Forbidden as exc:
        return _user_page(profile, 422, str(exc))
    flash(f"Granted {amount} SMS credits to {profile.name}.", "success")
    return redirect(url_for("admin.user", profile_id=profile.id))


@bp.post("/users/<profile_id>/admin")
def set_admin(profile_id):
    profile = _user_or_404(profile_id)
    try:
        admin.set_admin(current_user, profile, request.form.get("make_admin") == "1")
    except Forbidden as exc:
        return _user_page(profile, 422, str(exc))
    return redirect(url_for("admin.user", profile_id=profile.id))


@bp.get("/sms")
def sms_log():
    status = request.args.get("status")
    return render_template("admin/sms.html", rows=admin.sms_log(keys_from_config(current_app.config), status),
                           counts=admin.sms_counts(), statuses=admin.SMS_STATUSES, status=status,
                           refunded=admin.refunded_count(), page_size=admin.PAGE_SIZE)


@bp.get("/stripe-events")
def stripe_events():
    return render_template("admin/stripe_events.html", events=admin.stripe_events(), page_size=admin.PAGE_SIZE)


@bp.get("/audit")
def audit():
    return render_template("admin/audit.html", actions=admin.actions())
