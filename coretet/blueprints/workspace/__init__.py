"""workspace blueprint."""
from flask import Blueprint

bp = Blueprint("workspace", __name__)

from coretet.blueprints.workspace import routes  # noqa: E402,F401  (registers the views)
