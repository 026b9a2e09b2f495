"""The local fake Stripe for the upgrade journey (tests/fake_stripe.py), when it is there."""
import secrets

try:
    from tests.fake_stripe import FakeStripe
except ImportError:  # billing not built yet: the upgrade journey skips
    FakeStripe = None

fake_stripe_available = FakeStripe is not None


def start_fake_stripe():
    """The fake API server on 127.0.0.1, with a webhook secret of its own for this run."""
    return FakeStripe(webhook_secret="whsec_e2e_" + secrets.token_hex(16))


def app_settings(fake, base_url):
    """Point the fake's webhooks at the app and return the app's Stripe settings (API base, keys, price ids)."""
    fake.webhook_url = base_url + "/webhooks/stripe"
    return fake.config()
