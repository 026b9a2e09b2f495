"""The Stripe SDK client and CoreTet's catalogue ids, built from settings (no Flask objects)."""
from dataclasses import dataclass

import stripe

PACK_SETTINGS = {"pack25": "STRIPE_PRICE_PACK25", "pack50": "STRIPE_PRICE_PACK50", "pack100": "STRIPE_PRICE_PACK100"}


class BillingUnavailable(Exception):
    """Payments are not set up on this server, or Stripe cannot be reached; the message says which."""


@dataclass(frozen=True)
class Catalogue:
    """The Stripe ids CoreTet sells: the Band price, its first-month coupon and the credit pack prices."""

    band_price: str | None
    intro_coupon: str | None
    pack_prices: dict

    def pack_price(self, pack_key):
        price = self.pack_prices.get(pack_key)
        if not price:
            raise BillingUnavailable("Credit packs aren't set up on this server yet (run `flask stripe setup`).")
        return price


def client(settings):
    """A StripeClient for the configured key, talking to STRIPE_API_BASE when set (tests, local fakes)."""
    key = settings.get("STRIPE_SECRET_KEY")
    if not key:
        raise BillingUnavailable("Payments aren't set up on this server yet: STRIPE_SECRET_KEY is missing.")
    base = settings.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        key, base_addresses={"api": base} if base else None, max_network_retries=2,
    )


def catalogue(settings):
    return Catalogue(
        band_price=settings.get("STRIPE_PRICE_BAND"),
        intro_coupon=settings.get("STRIPE_COUPON_BAND_INTRO"),
        pack_prices={key: settings.get(name) for key, name in PACK_SETTINGS.items()},
    )
