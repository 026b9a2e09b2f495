"""Band creation behind the tier gate, the members page, invitations and their acceptance."""
from functools import wraps

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from coretet import htmx
from coretet.blueprints.auth.helpers import keys, send_email
from coretet.blueprints.bands import bp
from coretet.blueprints.bands.forms import BandNameForm, InviteForm
from coretet.blueprints.workspace.context import with_workspace
from coretet.extensions import limiter
from coretet.models.band import ROLES
from coretet.services import bands
from coretet.services.workspaces import NotFound

LIMIT_MODALS = {"upgrade": "billing/_upgrade_modal.html", "waitlist": "billing/_waitlist_modal.html"}


def with_band(view):
    """Like @with_workspace, for band-only pages: the personal workspace has none of them (404)."""

    @with_workspace
    @wraps(view)
    def wrapper(workspace, **kwargs):
        if workspace.is_personal:
            raise NotFound()
        return view(workspace, **kwargs)

    return wrapper


def workspace_url(band):
    return url_for("workspace.home", ws=str(band.id))


def _invite_link(token):
    return current_app.config["APP_BASE_URL"] + url_for("bands.invite", token=token)


def _email_invite(workspace):
    """The send() for bands.invite_by_email: the text lives in a template beside the pages."""
    band, inviter = workspace.band, workspace.profile

    def send(invitation):
        send_email(invitation.invite.email, f"{inviter.name} invited you to join {band.name} on CoreTet",
                   render_template("bands/invite_email.txt", band=band, inviter=inviter,
                                   link=invitation.link, expires=invitation.invite.expires_at))
    return send


def _limit_modal(decision, status):
    fragment = LIMIT_MODALS[decision.modal]
    return htmx.render("bands/new.html", fragment, status, modal=fragment, reason=decision.reason)


@bp.route("/bands/new", methods=["GET", "POST"])
@login_required
def new():
    decision = bands.creation_decision(current_user)
    if not decision.allowed:
        return _limit_modal(decision, 200 if request.method == "GET" else 403)
    form = BandNameForm()
    if form.validate_on_submit():
        try:
            band = bands.create_band(current_user, form.name.data)
        except bands.BandError as exc:
            if exc.decision is None:
                raise
            return _limit_modal(exc.decision, 403)
        return htmx.redirect(workspace_url(band))
    return htmx.render("bands/new.html", "bands/_new_modal.html", 422 if form.errors else 200,
                       modal="bands/_new_modal.html", form=form)


def _page(workspace, fragment, status=200, **context):
    """The members page, or one of its fragments for htmx."""
    band = workspace.band
    context.setdefault("invite_form", InviteForm(formdata=None))
    invites = bands.pending_invites(band, keys()) if workspace.can_manage else []
    return htmx.render("bands/members.html", fragment, status, workspace=workspace, band=band,
                       rows=bands.members(band), invites=invites, roles=ROLES,
                       invite_days=bands.INVITE_DAYS, **context)


@bp.get("/w/<ws>/band/members")
@with_band
def members(workspace):
    return _page(workspace, "bands/_members.html")


@bp.get("/w/<ws>/band/name")
@with_band
def band_name(workspace):
    return render_template("bands/_name.html", workspace=workspace, band=workspace.band)


@bp.route("/w/<ws>/band/rename", methods=["GET", "POST"])
@with_band
def rename(workspace):
    workspace.require_manager()
    form = BandNameForm(obj=workspace.band)
    if form.validate_on_submit():
        bands.rename(workspace, form.name.data)
        if not htmx.is_fragment_request():
            return redirect(url_for("bands.members", ws=workspace.slug))
        return render_template("bands/_name.html", workspace=workspace, band=workspace.band)
    return render_template("bands/_rename_form.html", workspace=workspace, form=form), \
        422 if form.errors else 200


@bp.post("/w/<ws>/band/invites")
@limiter.limit("30 per hour", key_func=lambda: f"band-invite:{current_user.get_id()}")
@with_band
def send_invite(workspace):
    workspace.require_manager()
    workspace.require_writable("invite new members")
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(workspace, "bands/_invites.html", 422, invite_form=form)
    try:
        if form.email:
            bands.invite_by_email(workspace, form.email, link_for=_invite_link, send=_email_invite(workspace))
            sent = form.email
        else:
            bands.invite_by_phone(workspace, form.phone.e164, keys=keys(), link_for=_invite_link)
            sent = form.phone.masked
    except bands.BandError as exc:
        form.recipient.errors.append(str(exc))
        return _page(workspace, "bands/_invites.html", 422, invite_form=form)
    return _page(workspace, "bands/_invites.html", sent=sent)


@bp.delete("/w/<ws>/band/invites/<invite_id>")
@with_band
def revoke_invite(workspace, invite_id):
    bands.revoke_invite(workspace, invite_id)
    return ""


@bp.delete("/w/<ws>/band/members/<member_id>")
@with_band
def remove_member(workspace, member_id):
    bands.remove_member(workspace, member_id)
    return ""


@bp.post("/w/<ws>/band/members/<member_id>/role")
@with_band
def change_role(workspace, member_id):
    bands.change_role(workspace, member_id, request.form.get("role"))
    member, profile = bands.get_member(workspace, member_id)
    return render_template("bands/_member.html", workspace=workspace, band=workspace.band,
                           member=member, profile=profile, roles=ROLES)


@bp.post("/w/<ws>/band/leave")
@with_band
def leave(workspace):
    bands.leave_band(workspace)
    flash(f"You left {workspace.band.name}.", "info")
    return htmx.redirect(url_for("workspace.home", ws="me"))


def _invite_page(token, status=200, error=None):
    try:
        invite, band, inviter = bands.find_invite(token)
    except bands.BandError as exc:
        return render_template("bands/invite.html", token=token, error=str(exc)), exc.status
    return render_template("bands/invite.html", token=token, invite=invite, band=band,
                           inviter=inviter, error=error), status


@bp.get("/invites/<token>")
def invite(token):
    return _invite_page(token)


@bp.post("/invites/<token>")
@login_required
def accept(token):
    try:
        band = bands.accept_invite(token, current_user, keys())
    except bands.BandError as exc:
        return _invite_page(token, exc.status, error=str(exc))
    flash(f"Welcome to {band.name}!", "success")
    return redirect(workspace_url(band))
