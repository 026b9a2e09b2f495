"""webhooks blueprint."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from coretet.blueprints.webhooks import routes  # noqa: E402,F401  (registers the views)
