"""collab blueprint: listened/liked/loved, comments with voice memos, band activity (SPEC §9)."""
from flask import Blueprint

bp = Blueprint("collab", __name__)

from coretet.blueprints.collab import routes  # noqa: E402,F401  (registers the views)
