"""Plans (generated from services/tiers.py), Stripe Checkout for Band and credit packs, the Producer waitlist."""
from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from coretet.blueprints.auth.forms import checked_email, checked_name
from coretet.blueprints.auth.helpers import send_email
from coretet.blueprints.billing import bp
from coretet.htmx import notice, redirect, render
from coretet.services import billing, sms_credits, stripe_gateway, tiers, waitlist
from coretet.services.workspaces import Forbidden

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


# -- Checkout, credits, the customer portal -------------------------------------------------

CHECKOUT_KINDS = ("band", "pack")


def _external(endpoint, **values):
    """An absolute URL on our public base, for Stripe to send the browser back to."""
    return current_app.config["APP_BASE_URL"] + url_for(endpoint, **values)


def _return_urls(kind):
    # Stripe fills in {CHECKOUT_SESSION_ID}; url_for would escape the braces, so it is appended.
    success = _external("billing.success", kind=kind) + "&session_id={CHECKOUT_SESSION_ID}"
    return success, _external("billing.cancelled", kind=kind)


def _go_to_stripe(start):
    """Run a checkout/portal starter and send the browser to the URL it returns, or explain why not."""
    try:
        client = stripe_gateway.client(current_app.config)
        url = start(client, stripe_gateway.catalogue(current_app.config))
    except stripe_gateway.BillingUnavailable as exc:
        return notice(str(exc), 503)
    except Forbidden as exc:
        return notice(str(exc), 403)
    return redirect(url)


@bp.post("/billing/checkout/band")
@login_required
def checkout_band():
    success, cancel = _return_urls("band")
    return _go_to_stripe(lambda client, catalogue: billing.start_band_checkout(
        client, catalogue, current_user, success, cancel))


@bp.post("/billing/checkout/credits/<pack>")
@login_required
def checkout_credits(pack):
    try:
        tiers.get_credit_pack(pack)
    except ValueError:
        abort(404)
    success, cancel = _return_urls("pack")
    return _go_to_stripe(lambda client, catalogue: billing.start_pack_checkout(
        client, catalogue, current_user, pack, success, cancel))


@bp.post("/billing/portal")
@login_required
def portal():
    return_url = _external("account.settings")
    return _go_to_stripe(lambda client, catalogue: billing.portal_url(client, current_user, return_url))


@bp.get("/billing/credits")
@login_required
def credits():
    return render_template("billing/credits.html", balance=sms_credits.balance(current_user),
                           packs=tiers.CREDIT_PACKS)


def _checkout_state():
    """What the success page and its status fragment show: has this Checkout been applied yet?"""
    kind = request.args.get("kind", "band")
    session_id = request.args.get("session_id", "")[:255]
    if kind not in CHECKOUT_KINDS:
        abort(404)
    return {"kind": kind, "session_id": session_id, "balance": sms_credits.balance(current_user),
            "done": billing.checkout_done(current_user, session_id, kind)}


@bp.get("/billing/success")
@login_required
def success():
    """Where Stripe sends the browser after paying; it says "confirming" until the webhook lands."""
    return render_template("billing/success.html", **_checkout_state())


@bp.get("/billing/status")
@login_required
def checkout_status():
    """The success page's status line; it polls itself until the payment is applied."""
    return render_template("billing/_checkout_status.html", **_checkout_state())


@bp.get("/billing/cancelled")
@login_required
def cancelled():
    kind = request.args.get("kind", "band")
    if kind not in CHECKOUT_KINDS:
        abort(404)
    return render_template("billing/cancelled.html", kind=kind)


UPGRADE_REASONS = {
    "storage": tiers.storage_upgrade,
    "expiry": tiers.longer_expiry,
}
LIMIT_MODALS = {"upgrade": "billing/_upgrade_modal.html", "waitlist": "billing/_waitlist_modal.html"}


@bp.get("/billing/upgrade/<limit>")
@login_required
def upgrade_modal(limit):
    """The upgrade (or waitlist) modal for a limit the page already shows as reached."""
    reason_for = UPGRADE_REASONS.get(limit)
    if reason_for is None:
        abort(404)
    decision = reason_for(current_user.tier)
    if decision.allowed or not decision.modal:
        return redirect(url_for("billing.plans"))
    fragment = LIMIT_MODALS[decision.modal]
    return render("billing/plans.html", fragment, modal=fragment, reason=decision.reason,
                  columns=[tiers.get_tier(key) for key in tiers.TIER_KEYS], rows=tiers.comparison_rows(),
                  current=current_user.tier)
