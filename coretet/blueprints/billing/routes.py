"""The plan comparison page, generated from services/tiers.py (the one copy of the numbers)."""
from flask import render_template
from flask_login import current_user

from coretet.blueprints.billing import bp
from coretet.services import tiers


@bp.get("/plans")
def plans():
    current = current_user.tier if current_user.is_authenticated else None
    columns = [tiers.get_tier(key) for key in tiers.TIER_KEYS]
    return render_template("billing/plans.html", columns=columns, rows=tiers.comparison_rows(), current=current)
