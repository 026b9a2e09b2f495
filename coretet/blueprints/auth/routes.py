"""Sign-in and sign-out."""
from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from coretet.blueprints.auth import bp
from coretet.blueprints.auth.forms import LoginForm
from coretet.extensions import login_manager
from coretet.services import accounts

GENERIC_LOGIN_ERROR = "That email or password is wrong."


@login_manager.user_loader
def load_user(session_id):
    return accounts.load_session(session_id)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("workspace.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        profile = accounts.authenticate(form.email.data, form.password.data)
        if profile is None:
            error = GENERIC_LOGIN_ERROR
        else:
            session.clear()  # nothing from before sign-in carries over (fixation)
            accounts.start_session(profile, request.user_agent.string, form.remember.data)
            login_user(profile, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("workspace.home"))
    status = 200 if request.method == "GET" or not error else 401
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(current_user.current_session_id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target):
    """Only same-site paths; never another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
