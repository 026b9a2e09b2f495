"""Sign-up, inline field checks, phone verification, sign-in and sign-out."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from coretet import htmx
from coretet.blueprints.auth import bp
from coretet.blueprints.auth.forms import CodeForm, LoginForm, SignupForm
from coretet.blueprints.auth.helpers import keys, safe_next, sign_in, verifier
from coretet.extensions import db, limiter, login_manager
from coretet.services import accounts, linking
from coretet.services.phone import display
from coretet.services.verification import VerificationError

GENERIC_LOGIN_ERROR = "That email or password is wrong."
CHECKABLE = ("name", "email", "password", "phone")


@login_manager.user_loader
def load_user(session_id):
    return accounts.load_session(session_id)


def _login_account_key():
    return "login:" + accounts.normalise_email(request.form.get("email"))


def _failed(response):
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"],
               deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_login_account_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("workspace.personal_home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        profile = accounts.authenticate(form.email.data, form.password.data)
        if profile is None:
            error = GENERIC_LOGIN_ERROR
        else:
            sign_in(profile, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("workspace.personal_home"))
    status = 401 if error else (422 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(current_user.current_session_id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("workspace.personal_home"))
    # No prefill from the query string: a phone number in a URL ends up in access logs.
    form = SignupForm()
    if form.validate_on_submit():
        try:
            profile = accounts.create_account(form.email.data, form.password.data, form.name.data)
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            sign_in(profile)
            session.pop("phone_prompt", None)  # they are verifying right now
            _send_code(form.parsed_phone.e164, profile)
            return redirect(url_for("auth.verify"))
    return render_template("auth/signup.html", form=form), 422 if form.errors else 200


@bp.post("/signup/check/<field>")
def signup_check(field):
    """Inline validation of one sign-up field while the user types."""
    if field not in CHECKABLE:
        return "", 404
    form = SignupForm()
    target = form[field]
    inline = getattr(SignupForm, f"validate_{field}", None)
    ok_message = None
    if target.validate(form, extra_validators=[inline] if inline else []) and field == "phone":
        ok_message = f"We'll text a code to {form.parsed_phone.international}."
    return render_template("_field_feedback.html", f=target, ok_message=ok_message)


def _send_code(e164, profile):
    """Text a verification code; a refusal (too many sends) is shown on the verify page."""
    session["pending_phone"] = e164
    try:
        receipt = verifier().send(e164, profile_id=profile.id)
        db.session.commit()
        session["resend_at"] = receipt.resend_available_at.isoformat()
    except VerificationError as exc:
        db.session.rollback()
        flash(exc.message, "error")


@bp.route("/verify", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per 10 minutes", methods=["POST"])
def verify():
    pending = session.get("pending_phone")
    if not pending:
        return redirect(url_for("account.phone"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            verifier().check(pending, form.code.data)
            accounts.attach_verified_phone(current_user, pending, keys())
            linking.claim_grants_for(current_user, keys())
            db.session.commit()
        except (VerificationError, accounts.AccountError) as exc:
            db.session.rollback()
            error = getattr(exc, "message", str(exc))
        else:
            session.pop("pending_phone", None)
            session.pop("phone_prompt", None)
            flash(f"{display(pending)} is verified.", "success")
            return redirect(url_for("workspace.personal_home"))
    status = 422 if error or form.errors else 200
    return render_template("auth/verify.html", form=form, error=error, phone=display(pending),
                           resend_at=session.get("resend_at")), status


@bp.post("/verify/resend")
@login_required
@limiter.limit("10 per 10 minutes")
def verify_resend():
    pending = session.get("pending_phone")
    if not pending:
        return htmx.redirect(url_for("account.phone"))
    message = None
    try:
        receipt = verifier().send(pending, profile_id=current_user.id)
        db.session.commit()
        session["resend_at"] = receipt.resend_available_at.isoformat()
        message = "We sent a new code."
    except VerificationError as exc:
        db.session.rollback()
        message = exc.message
        if exc.retry_at:
            session["resend_at"] = exc.retry_at.isoformat()
    return render_template("auth/_resend.html", resend_at=session.get("resend_at"), message=message)
