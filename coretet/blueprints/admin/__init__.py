"""Admin pages: invisible (404) to everyone but admins."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from coretet.blueprints.admin import routes  # noqa: E402,F401  (registers the views)
