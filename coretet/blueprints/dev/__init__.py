"""dev blueprint."""
from flask import Blueprint

bp = Blueprint("dev", __name__)

from coretet.blueprints.dev import routes  # noqa: E402,F401  (registers the views)
