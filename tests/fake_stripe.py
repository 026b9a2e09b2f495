"""A stateful stand-in for the Stripe API on 127.0.0.1, for tests and browser journeys.

The real `stripe` SDK talks to it (its API base pointed here). It keeps
customers, products, prices, coupons, Checkout Sessions and subscriptions in
memory, answers the few endpoints CoreTet calls, and serves a checkout page
whose "Pay" button sends a `checkout.session.completed` webhook, signed with
the SDK's own helper, to the app and then sends the browser to success_url.
"""
import itertools
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import stripe

_ids = itertools.count(1)


def new_id(prefix):
    return f"{prefix}_fake{next(_ids):06d}"


def _nested(pairs):
    """Stripe's form encoding (a[b][0][c]=v) back into dicts and lists."""
    root = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part, following in zip(parts, parts[1:] + [None]):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


class FakeStripe:
    """The fake API server; `url` is its base, `requests` what the SDK sent."""

    def __init__(self, webhook_url=None, webhook_secret=None):
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.customers, self.products, self.prices, self.coupons = {}, {}, {}, {}
        self.sessions, self.subscriptions, self.portal_sessions = {}, {}, []
        self.requests = []
        self.fail_next = []  # (status, message) answers to give before normal service
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    # -- what tests use ---------------------------------------------------------------

    def config(self):
        """App settings that point the SDK here, with the catalogue `flask stripe setup` would make."""
        band = self._ensure_price("coretet_band_monthly", 1000, recurring=True)
        packs = {f"pack{n}": self._ensure_price(f"coretet_pack{n}", cents)
                 for n, cents in ((25, 200), (50, 300), (100, 500))}
        self.coupons.setdefault("coretet-band-intro", {
            "id": "coretet-band-intro", "object": "coupon", "amount_off": 500, "currency": "usd",
            "duration": "once"})
        return {
            "STRIPE_SECRET_KEY": "sk_test_fake", "STRIPE_API_BASE": self.url,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret or "whsec_fake",
            "STRIPE_PRICE_BAND": band, "STRIPE_COUPON_BAND_INTRO": "coretet-band-intro",
            "STRIPE_PRICE_PACK25": packs["pack25"], "STRIPE_PRICE_PACK50": packs["pack50"],
            "STRIPE_PRICE_PACK100": packs["pack100"],
        }

    def _ensure_price(self, lookup_key, cents, recurring=False):
        for price in self.prices.values():
            if price.get("lookup_key") == lookup_key:
                return price["id"]
        product = {"id": new_id("prod"), "object": "product", "name": lookup_key}
        self.products[product["id"]] = product
        price = {"id": new_id("price"), "object": "price", "lookup_key": lookup_key, "unit_amount": cents,
                 "currency": "usd", "product": product["id"],
                 "recurring": {"interval": "month"} if recurring else None}
        self.prices[price["id"]] = price
        return price["id"]

    def complete(self, session_id, status="active"):
        """Pay for a Checkout Session as the customer would; returns the completed session."""
        with self.lock:
            session = self.sessions[session_id]
            session["status"], session["payment_status"] = "complete", "paid"
            if session["mode"] == "subscription" and not session.get("subscription"):
                sub = {"id": new_id("sub"), "object": "subscription", "customer": session["customer"],
                       "status": status, "metadata": session.get("subscription_metadata", {}),
                       "cancel_at_period_end": False, "current_period_end": int(time.time()) + 30 * 86400}
                self.subscriptions[sub["id"]] = sub
                session["subscription"] = sub["id"]
            return dict(session)

    def set_status(self, subscription_id, status):
        self.subscriptions[subscription_id]["status"] = status
        return dict(self.subscriptions[subscription_id])

    def event(self, event_type, obj, event_id=None):
        """A webhook event body as Stripe sends it (JSON text)."""
        return json.dumps({
            "id": event_id or new_id("evt"), "object": "event", "type": event_type, "api_version": "2024-06-20",
            "created": int(time.time()), "livemode": False, "data": {"object": obj},
        })

    def sign(self, payload, secret=None, timestamp=None):
        """The Stripe-Signature header for a payload, made by the SDK's own helper."""
        return stripe.WebhookSignature.generate_signature_header(
            payload, secret or self.webhook_secret or "whsec_fake", timestamp=timestamp)

    def deliver(self, payload):
        """POST a signed event to the app's webhook URL, as Stripe would; returns the HTTP status."""
        request = urllib.request.Request(self.webhook_url, data=payload.encode(), method="POST", headers={
            "Content-Type": "application/json", "Stripe-Signature": self.sign(payload)})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    # -- the API ----------------------------------------------------------------------

    def handle(self, method, path, params):
        """(status, json) for one API request."""
        if self.fail_next:
            status, message = self.fail_next.pop(0)
            return status, {"error": {"type": "api_error", "message": message}}
        parts = [part for part in path.split("/") if part][1:]  # drop "v1"
        route = (method, tuple(part if i % 2 == 0 else "*" for i, part in enumerate(parts)))
        handler = {
            ("POST", ("customers",)): self._create_customer,
            ("POST", ("checkout", "*")): self._create_session,
            ("GET", ("checkout", "*", "*")): self._get_session,
            ("GET", ("subscriptions", "*")): self._get_subscription,
            ("POST", ("billing_portal", "*")): self._create_portal,
            ("GET", ("prices",)): self._list_prices,
            ("POST", ("products",)): self._create_product,
            ("POST", ("prices",)): self._create_price,
            ("GET", ("coupons", "*")): self._get_coupon,
            ("POST", ("coupons",)): self._create_coupon,
        }.get(route)
        if handler is None:
            return 404, {"error": {"type": "invalid_request_error", "message": f"fake Stripe: no {method} {path}"}}
        with self.lock:
            return handler(parts, params)

    def _missing(self, what, key):
        return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                               "message": f"No such {what}: '{key}'"}}

    def _create_customer(self, parts, params):
        customer = {"id": new_id("cus"), "object": "customer", "email": params.get("email"),
                    "metadata": params.get("metadata", {})}
        self.customers[customer["id"]] = customer
        return 200, customer

    def _create_session(self, parts, params):
        session_id = new_id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode"),
            "customer": params.get("customer"), "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}), "line_items_sent": params.get("line_items", []),
            "discounts_sent": params.get("discounts", []),
            "subscription_metadata": params.get("subscription_data", {}).get("metadata", {}),
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
            "status": "open", "payment_status": "unpaid", "subscription": None,
            "url": f"{self.url}/checkout/{session_id}",
        }
        self.sessions[session_id] = session
        return 200, session

    def _get_session(self, parts, params):
        session = self.sessions.get(parts[2])
        return (200, session) if session else self._missing("checkout.session", parts[2])

    def _get_subscription(self, parts, params):
        sub = self.subscriptions.get(parts[1])
        return (200, sub) if sub else self._missing("subscription", parts[1])

    def _create_portal(self, parts, params):
        portal = {"id": new_id("bps"), "object": "billing_portal.session", "customer": params.get("customer"),
                  "return_url": params.get("return_url"), "url": f"{self.url}/portal/{params.get('customer')}"}
        self.portal_sessions.append(portal)
        return 200, portal

    def _list_prices(self, parts, params):
        wanted = params.get("lookup_keys") or []
        found = [p for p in self.prices.values() if p.get("lookup_key") in wanted]
        return 200, {"object": "list", "data": found, "has_more": False, "url": "/v1/prices"}

    def _create_product(self, parts, params):
        product = {"id": new_id("prod"), "object": "product", "name": params.get("name")}
        self.products[product["id"]] = product
        return 200, product

    def _create_price(self, parts, params):
        price = {"id": new_id("price"), "object": "price", "lookup_key": params.get("lookup_key"),
                 "unit_amount": int(params.get("unit_amount", 0)), "currency": params.get("currency"),
                 "product": params.get("product"), "recurring": params.get("recurring")}
        self.prices[price["id"]] = price
        return 200, price

    def _get_coupon(self, parts, params):
        coupon = self.coupons.get(parts[1])
        return (200, coupon) if coupon else self._missing("coupon", parts[1])

    def _create_coupon(self, parts, params):
        coupon = {"id": params.get("id") or new_id("coupon"), "object": "coupon",
                  "amount_off": int(params.get("amount_off", 0)), "currency": params.get("currency"),
                  "duration": params.get("duration")}
        self.coupons[coupon["id"]] = coupon
        return 200, coupon

    # -- the hosted pages a browser sees ------------------------------------------------

    def checkout_page(self, session_id):
        session = self.sessions.get(session_id)
        if session is None:
            return 404, "<h1>No such checkout</h1>"
        what = "CoreTet Band — $5 first month, then $10/month" if session["mode"] == "subscription" \
            else "CoreTet SMS credits"
        return 200, (
            "<!doctype html><meta name=viewport content='width=device-width'>"
            f"<title>Fake Stripe Checkout</title><h1>Fake Stripe Checkout</h1><p>{what}</p>"
            f"<form method=post action='/checkout/{session_id}/pay'><button>Pay</button></form>"
            f"<p><a href='{session['cancel_url']}'>Back</a></p>"
        )

    def pay(self, session_id):
        """Complete the session, send the signed webhook, and send the browser to success_url."""
        session = self.complete(session_id)
        self.deliver(self.event("checkout.session.completed", _public_session(session)))
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)


def _public_session(session):
    """A session as Stripe's webhook would carry it (without this fake's bookkeeping)."""
    return {key: value for key, value in session.items()
            if key not in ("line_items_sent", "discounts_sent", "subscription_metadata")}


class _Handler(BaseHTTPRequestHandler):
    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _send(self, status, body, content_type="application/json", location=None):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(data)

    def _serve(self):
        fake = self.server.fake
        url = urlsplit(self.path)
        body = self._body()
        if url.path.startswith("/v1/"):
            params = _nested(parse_qsl(url.query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True))
            fake.requests.append((self.command, url.path, params, self.headers.get("Authorization")))
            status, payload = fake.handle(self.command, url.path, params)
            return self._send(status, payload)
        parts = [part for part in url.path.split("/") if part]
        if self.command == "GET" and len(parts) == 2 and parts[0] == "checkout":
            status, page = fake.checkout_page(parts[1])
            return self._send(status, page, "text/html; charset=utf-8")
        if self.command == "POST" and len(parts) == 3 and parts[0] == "checkout" and parts[2] == "pay":
            return self._send(303, "", "text/plain", location=fake.pay(parts[1]))
        if self.command == "GET" and parts[:1] == ["portal"]:
            return self._send(200, "<h1>Fake Stripe customer portal</h1>", "text/html; charset=utf-8")
        return self._send(404, {"error": {"message": "not found"}})

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, *args):
        pass
