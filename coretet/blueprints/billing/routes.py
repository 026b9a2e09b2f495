"""The plan comparison page (generated from services/tiers.py) and the Producer waitlist."""
from flask import render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from coretet.blueprints.auth.forms import checked_email, checked_name
from coretet.blueprints.auth.helpers import send_email
from coretet.blueprints.billing import bp
from coretet.htmx import render
from coretet.services import tiers, waitlist

REASON_MAX = 1000


class WaitlistForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    name = StringField("Your name", validators=[DataRequired("Tell us what to call you."), Length(max=80)])
    reason = TextAreaField("What would you use Producer for?",
                           validators=[Length(max=REASON_MAX, message=f"Keep it under {REASON_MAX} characters.")])

    def validate_email(self, field):
        field.data = checked_email(field.data)

    def validate_name(self, field):
        checked_name(field)

    def validate_reason(self, field):
        if any(not ch.isprintable() and ch not in "\n\r\t" for ch in field.data or ""):
            raise ValidationError("Use letters, numbers and punctuation only.")


@bp.get("/plans")
def plans():
    current = current_user.tier if current_user.is_authenticated else None
    columns = [tiers.get_tier(key) for key in tiers.TIER_KEYS]
    return render_template("billing/plans.html", columns=columns, rows=tiers.comparison_rows(), current=current)


def _confirm(entry, number):
    """Tell a new waitlist member their place by email."""
    send_email(entry.email, "You're on the CoreTet Producer waitlist",
               f"Hi {entry.name},\n\nThanks for joining the Producer waitlist. You're number {number}.\n"
               "We'll email you when the Producer tier opens.\n")


@bp.route("/producer/waitlist", methods=["GET", "POST"], endpoint="waitlist")
def waitlist_page():
    """The Producer waitlist: the tier's numbers and a form to join."""
    form = WaitlistForm()
    if request.method == "GET" and current_user.is_authenticated:
        form.email.data, form.name.data = current_user.email, current_user.name
    result = None
    if form.validate_on_submit():
        profile = current_user if current_user.is_authenticated else None
        reason = (form.reason.data or "").strip()
        entry, number, created = waitlist.join(form.email.data, form.name.data, reason, profile)
        if created:
            _confirm(entry, number)
        result = {"number": number, "created": created}
    status = 422 if form.errors else 200
    return render("billing/waitlist.html", "billing/_waitlist_form.html", status, form=form, result=result)


@bp.post("/producer/waitlist/check")
def waitlist_check():
    """Inline check of the waitlist email while the user types."""
    form = WaitlistForm()
    form.email.validate(form, extra_validators=[WaitlistForm.validate_email])
    return render_template("_field_feedback.html", f=form.email)
