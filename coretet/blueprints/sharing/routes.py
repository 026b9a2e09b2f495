"""Share a playlist by SMS: the dialog with its inline checks, and the owner's manage view."""
from flask import current_app, redirect, request, url_for

from coretet import htmx
from coretet.blueprints.auth.helpers import keys
from coretet.blueprints.sharing import bp
from coretet.blueprints.sharing.forms import (
    RecipientForm, ShareForm, check_row, expiry_days, expiry_value, recipient_count,
)
from coretet.blueprints.workspace.context import with_workspace
from coretet.models import utcnow
from coretet.services import sharing, sms_credits, tiers
from coretet.services.workspaces import get_playlist

LIMIT_MODALS = {"upgrade": "billing/_upgrade_modal.html", "waitlist": "billing/_waitlist_modal.html"}
DIALOG = "sharing/_dialog.html"
PAGE = "sharing/share.html"


@bp.app_template_filter("expires_phrase")
def expires_phrase(when, now=None):
    """An expiry as people say it ("expires in 7 days", "expires tomorrow"): sharing.expires_phrase."""
    return sharing.expires_phrase(when, now)


@bp.app_template_filter("short_time")
def short_time(when):
    """A timestamp as "Nov 26, 14:05 UTC"."""
    return f"{when.strftime('%b')} {when.day}, {when.strftime('%H:%M')} UTC" if when else "—"


def _listen_url(token):
    return current_app.config["APP_BASE_URL"] + url_for("listen.code_page", token=token)


def _urls(workspace, playlist):
    """The dialog's form and cost-line URLs, built once per render."""
    args = {"ws": workspace.slug, "playlist_id": playlist.id}
    return {name: url_for(f"sharing.{name}", **args) for name in ("create", "cost")}


def _limit_modal(decision, status, retarget=False):
    response = htmx.render(PAGE, LIMIT_MODALS[decision.modal], status, modal=LIMIT_MODALS[decision.modal],
                           reason=decision.reason, workspace=None, playlist=None)
    if retarget:
        response.headers["HX-Retarget"] = "#modal"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _dialog(workspace, playlist, form, status=200, error=None):
    """The share dialog, with the cost line and the row limit worked out for this user."""
    profile = workspace.profile
    tier = tiers.get_tier(profile.tier)
    return htmx.render(PAGE, DIALOG, status, modal=DIALOG, workspace=workspace, playlist=playlist,
                       form=form, urls=_urls(workspace, playlist),
                       balance=sms_credits.balance(profile), cost=recipient_count(form),
                       error=error, row_limit=tier.recipients_per_share,
                       row_refusal=_row_refusal(tier), expiry_hint=_expiry_hint(profile.tier))


def _row_refusal(tier):
    """What the plan says once the rows reach its recipients-per-share limit."""
    if tier.recipients_per_share is None:
        return None
    return tiers.can_add_recipients(tier.key, tier.recipients_per_share + 1)


def _expiry_hint(tier_key):
    """The refusal for the first expiry choice this tier can't have, for the hint under the choices."""
    for days, _, allowed in tiers.expiry_options(tier_key):
        if not allowed:
            return tiers.expiry_allowed(tier_key, days)
    return None


@bp.get("/w/<ws>/playlists/<playlist_id>/share")
@with_workspace
def dialog(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    decision = tiers.can_add_active_share(workspace.profile.tier, sharing.active_share_count(workspace.profile))
    if not decision.allowed and decision.modal:
        return _limit_modal(decision, 200)
    return _dialog(workspace, playlist, ShareForm(formdata=None, tier_key=workspace.profile.tier))


@bp.post("/w/<ws>/playlists/<playlist_id>/share")
@with_workspace
def create(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    form = ShareForm(tier_key=workspace.profile.tier)
    if not form.validate_on_submit():
        return _dialog(workspace, playlist, form, 422)
    try:
        result = sharing.create_share(workspace, playlist, workspace.profile, form.recipients_data(),
                                      form.expiry_days, keys(), _listen_url)
    except (sharing.ShareError, sms_credits.NotEnoughCredits) as exc:
        decision = getattr(exc, "decision", None)
        if decision is not None and decision.modal:
            return _limit_modal(decision, 403)
        return _dialog(workspace, playlist, form, 403, error=exc)
    sent = [(grant.recipient_label, parsed.masked) for grant, parsed in
            zip(result.grants, [row.parsed for row in form.filled()])]
    response = htmx.render(PAGE, "sharing/_sent.html", modal="sharing/_sent.html", workspace=workspace,
                           playlist=playlist, share=result.share, sent=sent,
                           balance=sms_credits.balance(workspace.profile))
    return htmx.trigger(response, "shares-changed")


@bp.post("/w/<ws>/playlists/<playlist_id>/share/check")
@with_workspace
def check(workspace, playlist_id):
    """One row's phone, checked against the country list and the other rows: its feedback fragment."""
    get_playlist(workspace, playlist_id)
    field, parsed = check_row(request.form, request.args.get("row", ""))
    if field is None:
        return "", 204
    return htmx.render(PAGE, "sharing/_phone_feedback.html", f=field, parsed=parsed)


@bp.post("/w/<ws>/playlists/<playlist_id>/share/cost")
@with_workspace
def cost(workspace, playlist_id):
    playlist = get_playlist(workspace, playlist_id)
    form = ShareForm(tier_key=workspace.profile.tier)
    return htmx.render(PAGE, "sharing/_cost.html", cost=recipient_count(form),
                       balance=sms_credits.balance(workspace.profile), urls=_urls(workspace, playlist))


@bp.get("/w/<ws>/playlists/<playlist_id>/share/row")
@with_workspace
def row(workspace, playlist_id):
    """One more empty recipient row, and (out of band) the next "Add another" or the limit hint."""
    playlist = get_playlist(workspace, playlist_id)
    index = request.args.get("index", type=int)
    if index is None or index < 1:
        return "", 204
    tier = tiers.get_tier(workspace.profile.tier)
    return htmx.render(PAGE, "sharing/_row_added.html", workspace=workspace, playlist=playlist,
                       row=RecipientForm(formdata=None, prefix=f"recipients-{index}"), index=index,
                       rows=index + 1, row_limit=tier.recipients_per_share, row_refusal=_row_refusal(tier))


def _manage(workspace, playlist, status=200):
    if not htmx.is_fragment_request():
        return redirect(url_for("playlists.show", ws=workspace.slug, playlist_id=playlist.id))
    tier_key = workspace.profile.tier
    return htmx.render(PAGE, "sharing/_manage.html", status, workspace=workspace, playlist=playlist,
                       shares=sharing.shares_for_playlist(playlist, keys()), now=utcnow(),
                       extend_options=[(days, label) for days, label, ok in tiers.expiry_options(tier_key) if ok])


def _share(workspace, playlist_id, share_id):
    """The playlist through the workspace, then the share through the playlist: foreign ids are 404."""
    playlist = get_playlist(workspace, playlist_id)
    return playlist, sharing.get_share(playlist, share_id)


def _action_failed(exc):
    """A refused manage action: the upgrade modal for a plan limit, a notice otherwise."""
    decision = getattr(exc, "decision", None)
    if decision is not None and decision.modal:
        return _limit_modal(decision, 403, retarget=True)
    return htmx.notice(str(exc), 403)


@bp.get("/w/<ws>/playlists/<playlist_id>/shares")
@with_workspace
def manage(workspace, playlist_id):
    return _manage(workspace, get_playlist(workspace, playlist_id))


@bp.delete("/w/<ws>/playlists/<playlist_id>/shares/<share_id>/grants/<grant_id>")
@with_workspace
def revoke(workspace, playlist_id, share_id, grant_id):
    playlist, share = _share(workspace, playlist_id, share_id)
    sharing.revoke_grant(share, grant_id)
    return _manage(workspace, playlist)


@bp.post("/w/<ws>/playlists/<playlist_id>/shares/<share_id>/grants/<grant_id>/resend")
@with_workspace
def resend(workspace, playlist_id, share_id, grant_id):
    playlist, share = _share(workspace, playlist_id, share_id)
    try:
        sharing.resend_code(share, grant_id, keys(), _listen_url)
    except (sharing.ShareError, sms_credits.NotEnoughCredits) as exc:
        return _action_failed(exc)
    return _manage(workspace, playlist)


@bp.post("/w/<ws>/playlists/<playlist_id>/shares/<share_id>/extend")
@with_workspace
def extend(workspace, playlist_id, share_id):
    playlist, share = _share(workspace, playlist_id, share_id)
    value = request.form.get("days", "")
    if value not in [expiry_value(days) for days in tiers.EXPIRY_CHOICES]:
        return htmx.notice("Choose how long the share should last.", 403)
    try:
        sharing.extend(share, expiry_days(value), workspace.profile.tier)
    except sharing.ShareError as exc:
        return _action_failed(exc)
    return _manage(workspace, playlist)


@bp.delete("/w/<ws>/playlists/<playlist_id>/shares/<share_id>")
@with_workspace
def end(workspace, playlist_id, share_id):
    playlist, share = _share(workspace, playlist_id, share_id)
    sharing.end_share(share)
    return _manage(workspace, playlist)


@bp.post("/w/<ws>/playlists/<playlist_id>/shares/<share_id>/unlock")
@with_workspace
def unlock(workspace, playlist_id, share_id):
    playlist, share = _share(workspace, playlist_id, share_id)
    sharing.unlock(share)
    return _manage(workspace, playlist)
