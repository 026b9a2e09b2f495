"""Audio responses after authorisation: nginx X-Accel-Redirect, a presigned URL, or Flask itself."""
from flask import abort, current_app, redirect, request, send_file
from werkzeug.http import parse_range_header

from coretet.services.filestore import store_from_config

PRESIGNED_SECONDS = 300


def stream_response(track):
    """Bytes of an already-authorised track, with Range support and private caching rules."""
    config = current_app.config
    store = store_from_config(config)
    accel = config.get("MEDIA_ACCEL_PREFIX")
    if accel:
        response = current_app.response_class(status=200, mimetype=track.content_type)
        response.headers["X-Accel-Redirect"] = f"{accel.rstrip('/')}/{track.storage_key}"
    elif hasattr(store, "presigned_url"):
        response = redirect(store.presigned_url(track.storage_key, PRESIGNED_SECONDS, track.content_type))
    elif not store.exists(track.storage_key):
        current_app.logger.error("track %s has no stored file %s", track.id, track.storage_key)
        abort(404)
    else:
        _ignore_multiple_ranges()
        # Werkzeug answers Range (206), unsatisfiable ranges (416) and If-Range itself.
        response = send_file(store.local_path(track.storage_key), mimetype=track.content_type,
                             conditional=True, etag=True, max_age=None)
    # Private, and revalidated each time so a revoked listener is asked again.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _ignore_multiple_ranges():
    """Serve the whole file for a multi-range request (RFC 9110 lets a server ignore Range);
    Werkzeug would answer 416, which players treat as a broken file."""
    ranges = parse_range_header(request.headers.get("Range"))
    if ranges is not None and len(ranges.ranges) > 1:
        request.environ.pop("HTTP_RANGE", None)
