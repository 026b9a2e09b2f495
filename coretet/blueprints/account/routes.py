"""Account settings, password reset by email, the add-phone prompt and "Shared with me"."""
from flask import current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from coretet import htmx
from coretet.blueprints.account import bp
from coretet.blueprints.auth.forms import (
    ChangePasswordForm, EmailChangeForm, ForgotPasswordForm, NameForm, NewPasswordForm, PhoneForm,
)
from coretet.blueprints.auth.helpers import keys, send_email
from coretet.blueprints.auth.routes import _send_code
from coretet.extensions import db, limiter
from coretet.models import Profile
from coretet.services import accounts, linking, sms_credits
from coretet.services.phone import PhoneDecryptError, display

RESET_SENT = "If an account uses that email, we've sent it a link to choose a new password. It works for one hour."


def _secret():
    return current_app.config["SECRET_KEY"]


def _link(endpoint, **values):
    return current_app.config["APP_BASE_URL"] + url_for(endpoint, **values)


@bp.route("/account")
@login_required
def settings():
    return _settings_page()


def _settings_page(status=200, **forms):
    forms.setdefault("name_form", NameForm(obj=current_user))
    forms.setdefault("email_form", EmailChangeForm(formdata=None))
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("phone_form", PhoneForm(formdata=None))
    phone = None
    if current_user.phone_verified:
        try:
            phone = display(accounts.phone_of(current_user, keys()))
        except PhoneDecryptError:  # keys misconfigured: say so instead of failing the whole page
            current_app.logger.error("profile %s: phone can't be decrypted with PHONE_ENCRYPTION_KEY", current_user.id)
            phone = "Your number (it can't be shown right now)"
    return render_template("account/settings.html", phone=phone, balance=sms_credits.balance(current_user),
                           **forms), status


@bp.post("/account/name")
@login_required
def change_name():
    form = NameForm()
    if not form.validate_on_submit():
        return _settings_page(422, name_form=form)
    current_user.name = form.name.data.strip()
    db.session.commit()
    flash("Your name is saved.", "success")
    return redirect(url_for("account.settings"))


@bp.post("/account/email")
@login_required
def change_email():
    form = EmailChangeForm()
    if not form.validate_on_submit():
        return _settings_page(422, email_form=form)
    token = accounts.email_change_token(_secret(), current_user, form.email.data)
    send_email(form.email.data, "Confirm your new CoreTet email",
               f"Hi {current_user.name},\n\nConfirm that CoreTet should use this address:\n"
               f"{_link('account.confirm_email', token=token)}\n\nIf you didn't ask for this, ignore this email.")
    flash(f"We sent a link to {form.email.data}. Your email changes when you open it.", "info")
    return redirect(url_for("account.settings"))


@bp.get("/account/email/confirm/<token>")
def confirm_email(token):
    try:
        profile = accounts.apply_email_change(_secret(), token)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        return render_template("errors/error.html", code=400, title="That link didn't work",
                               message=str(exc)), 400
    flash(f"Your email is now {profile.email}.", "success")
    return redirect(url_for("account.settings" if current_user.is_authenticated else "auth.login"))


@bp.post("/account/password")
@login_required
def change_password():
    form = ChangePasswordForm(user_inputs=[current_user.email, current_user.name])
    if form.validate_on_submit() and not accounts.check_password(current_user, form.current.data):
        form.current.errors = ["That isn't your current password."]
    if form.errors or not form.is_submitted():
        return _settings_page(422, password_form=form)
    accounts.set_password(current_user, form.password.data)
    db.session.commit()
    accounts.end_other_sessions(current_user, current_user.current_session_id)
    flash("Password changed. You were signed out everywhere else.", "success")
    return redirect(url_for("account.settings"))


@bp.route("/account/phone", methods=["GET", "POST"])
@login_required
def phone():
    form = PhoneForm(profile=current_user)
    if form.validate_on_submit():
        _send_code(form.parsed_phone.e164, current_user)
        return redirect(url_for("auth.verify"))
    return render_template("account/phone.html", form=form), 422 if form.errors else 200


@bp.get("/account/phone-prompt")
@login_required
def phone_prompt():
    if current_user.phone_verified or not session.get("phone_prompt"):
        return ""
    return render_template("account/_phone_prompt.html")


@bp.post("/account/phone-prompt/dismiss")
@login_required
def dismiss_phone_prompt():
    """Skip for this session; the prompt comes back at the next sign-in."""
    session.pop("phone_prompt", None)
    return ""


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per 10 minutes", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = accounts.normalise_email(form.email.data)
        profile = db.session.scalar(select(Profile).where(Profile.email == email))
        if profile is not None:
            token = accounts.password_reset_token(_secret(), profile)
            send_email(profile.email, "Choose a new CoreTet password",
                       f"Hi {profile.name},\n\nChoose a new password here (the link works once, for one hour):\n"
                       f"{_link('account.reset_password', token=token)}\n\n"
                       "If you didn't ask for this, ignore this email; your password stays as it is.")
        flash(RESET_SENT, "info")  # the same answer whether or not the account exists
        return redirect(url_for("auth.login"))
    return render_template("account/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    profile = accounts.profile_for_reset_token(_secret(), token)
    if profile is None:
        return render_template("errors/error.html", code=400, title="This link has expired",
                               message="Reset links work once, for one hour. Ask for a new one."), 400
    form = NewPasswordForm(user_inputs=[profile.email, profile.name])
    if form.validate_on_submit():
        accounts.set_password(profile, form.password.data)
        db.session.commit()
        accounts.end_other_sessions(profile, keep_session_id=None)
        flash("Your password is changed. Sign in with it now.", "success")
        return redirect(url_for("auth.login"))
    return render_template("account/reset.html", form=form, token=token), 422 if form.errors else 200


@bp.get("/shared")
@login_required
def shared_with_me():
    rows = linking.shared_with_me(current_user)
    return htmx.render("account/shared.html", "account/_shared_list.html", rows=rows)
