"""`flask stripe setup`: create CoreTet's products, prices and first-month coupon once, then reuse them.

Prices are found again by their lookup_key and the coupon by its fixed id, so
running the command twice creates nothing new and prints the same ids.
"""
import stripe

from coretet.services import tiers

INTRO_COUPON_ID = "coretet-band-intro"


def _catalogue_items():
    band = tiers.get_tier("band")
    yield "STRIPE_PRICE_BAND", "coretet_band_monthly", "CoreTet Band", band.monthly_price_cents, True
    for pack in tiers.CREDIT_PACKS:
        yield (f"STRIPE_PRICE_{pack.key.upper()}", f"coretet_{pack.key}",
               f"CoreTet SMS credits ({pack.credits})", pack.price_cents, False)


def _price(client, lookup_key, name, cents, recurring):
    """(price id, created?) for one lookup key."""
    found = client.v1.prices.list(params={"lookup_keys": [lookup_key], "limit": 1})
    if found.data:
        return found.data[0].id, False
    product = client.v1.products.create(params={"name": name})
    params = {"product": product.id, "unit_amount": cents, "currency": "usd", "lookup_key": lookup_key}
    if recurring:
        params["recurring"] = {"interval": "month"}
    return client.v1.prices.create(params=params).id, True


def _intro_coupon(client):
    """The once-only coupon that makes the first Band month $5."""
    band = tiers.get_tier("band")
    try:
        return client.v1.coupons.retrieve(INTRO_COUPON_ID).id, False
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "code", None) != "resource_missing":
            raise
    coupon = client.v1.coupons.create(params={
        "id": INTRO_COUPON_ID, "name": "Band: first month",
        "amount_off": band.monthly_price_cents - band.intro_price_cents, "currency": "usd", "duration": "once",
    })
    return coupon.id, True


def ensure_catalogue(client):
    """[(setting name, id, created?)] for every price and the coupon, creating only what is missing."""
    lines = [(setting, *_price(client, key, name, cents, recurring))
             for setting, key, name, cents, recurring in _catalogue_items()]
    lines.append(("STRIPE_COUPON_BAND_INTRO", *_intro_coupon(client)))
    return lines
