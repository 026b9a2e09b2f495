"""htmx helpers: one place decides page or fragment, and marks responses that vary on it."""
import json

from flask import g, make_response, render_template, request

HTMX_VERSION = "2.0.11"
HTMX_STATIC_PATH = f"vendor/htmx-{HTMX_VERSION}.min.js"


def is_fragment_request():
    """True for an htmx request that wants a piece of a page (boosted requests want pages)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render(page, fragment, status_code=200, **context):
    """Render the full page, or only its fragment when htmx asked for one."""
    g.varies_on_htmx = True
    template = fragment if is_fragment_request() else page
    return make_response(render_template(template, **context), status_code)


def trigger(response, event, detail=None):
    """Add an HX-Trigger event to a response (merging with events already set)."""
    existing = response.headers.get("HX-Trigger")
    events = json.loads(existing) if existing else {}
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def redirect(url):
    """Full-page redirect that works for both htmx and plain requests."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    from flask import redirect as flask_redirect
    return flask_redirect(url)


def add_vary_header(response):
    if g.get("varies_on_htmx"):
        response.vary.add("HX-Request")
    return response


def notice(message, status=200, level="error"):
    """A message for the user: into #notices for htmx requests, as a page otherwise."""
    if request.headers.get("HX-Request") == "true":
        response = make_response(render_template("_notice.html", message=message, level=level), status)
        response.headers["HX-Retarget"] = "#notices"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return make_response(render_template(
        "errors/error.html", code=status, title="That didn't work", message=message), status)
