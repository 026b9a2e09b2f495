"""Phone verification codes (SPEC §2): 6 digits, 10 minutes, single use, 5 checks, 3 sends per 10 minutes.

Two backends keep the same rules: LocalVerifier makes and hashes the code itself
and texts it through the SMS queue; TwilioVerifier lets Twilio Verify make and
check the code, while the send and check limits are still counted here.

The caller commits after `send` and after a successful `check`. A failed check
commits on its own before raising, so a rolled-back request cannot undo an
attempt and give a guesser more than five tries.
"""
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from coretet.extensions import db
from coretet.models import PhoneVerification, utcnow
from coretet.services import codes, messaging
from coretet.services.phone import blind_index
from coretet.services.sms import _http_client

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_CHECKS = 5
MAX_SENDS = 3
SEND_WINDOW = timedelta(minutes=10)
RESEND_DELAY = timedelta(seconds=30)
TWILIO_CODE_HASH = "twilio-verify"


_MESSAGES = {
    "no_code": "Ask for a code first.",
    "expired": "That code has expired. Ask for a new one.",
    "too_many_attempts": "Too many attempts. Ask for a new code.",
    "unavailable": "We couldn't reach the verification service. Try again in a minute.",
}


class VerificationError(Exception):
    """A send or check was refused; `message` is for the user, `reason` for the code."""

    def __init__(self, reason, message=None, attempts_left=None, retry_at=None):
        self.reason = reason
        self.message = message or _MESSAGES[reason]
        self.attempts_left = attempts_left
        self.retry_at = retry_at
        super().__init__(self.message)


@dataclass(frozen=True)
class SendReceipt:
    """When the code went out, when the UI may offer "resend", and how many sends remain."""

    sent_at: datetime
    resend_available_at: datetime
    sends_left: int


def _clean(code):
    """Typed input without spaces or dashes, or None if it can't be a 6-digit code."""
    if not isinstance(code, str) or len(code) > 32:
        return None
    digits = "".join(ch for ch in code if not ch.isspace() and ch != "-")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


def _too_many_sends(retry_at, now):
    """The refusal for a fourth send, telling the user how long to wait."""
    minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return VerificationError(
        "too_many_sends",
        f"We've sent {MAX_SENDS} codes to this number. Try again in {minutes} {unit}.",
        retry_at=retry_at,
    )


def _wrong(attempts_left):
    """The refusal for a wrong code; the fifth wrong one ends the code."""
    if attempts_left <= 0:
        return VerificationError("too_many_attempts", attempts_left=0)
    unit = "attempt" if attempts_left == 1 else "attempts"
    return VerificationError(
        "wrong", f"That code is not right. {attempts_left} {unit} left.", attempts_left=attempts_left
    )


class _Verifier:
    """The rules both backends share.

    Subclasses provide `_deliver(e164, row, now)`, which gets a code to the phone and
    returns the row's code_hash, and `_compare(e164, row, digits)`, which answers
    'approved', 'wrong', 'expired', 'too_many_attempts' or 'unavailable'.
    """

    def __init__(self, keys, now=utcnow):
        self.keys = keys
        self.now = now

    def send(self, e164, profile_id=None):
        """Send a fresh code; it replaces any earlier one for this number."""
        now = self.now()
        index = blind_index(e164, self.keys.phone_hmac)
        recent = db.session.scalars(
            select(PhoneVerification)
            .where(PhoneVerification.phone_blind_index == index,
                   PhoneVerification.created_at > now - SEND_WINDOW)
            .order_by(PhoneVerification.created_at)
        ).all()
        if len(recent) >= MAX_SENDS:
            raise _too_many_sends(recent[-MAX_SENDS].created_at + SEND_WINDOW, now)

        row = PhoneVerification(
            id=uuid.uuid4(), profile_id=profile_id, phone_blind_index=index,
            expires_at=now + CODE_LIFETIME, created_at=now,
        )
        row.code_hash = self._deliver(e164, row, now)
        db.session.add(row)
        db.session.flush()

        sends_left = MAX_SENDS - len(recent) - 1
        if sends_left:
            resend_at = now + RESEND_DELAY
        else:  # the next send opens when the oldest send in this window leaves it
            resend_at = (recent[0] if recent else row).created_at + SEND_WINDOW
        return SendReceipt(sent_at=now, resend_available_at=resend_at, sends_left=sends_left)

    def check(self, e164, code):
        """Accept the newest code for this number once, or raise VerificationError saying why not."""
        now = self.now()
        index = blind_index(e164, self.keys.phone_hmac)
        # Only the newest code counts: asking for a new one retires the ones before it.
        row = db.session.scalars(
            select(PhoneVerification)
            .where(PhoneVerification.phone_blind_index == index)
            .order_by(PhoneVerification.created_at.desc())
            .limit(1)
        ).first()
        if row is None or row.consumed_at is not None:
            raise VerificationError("no_code")
        if row.attempts >= MAX_CHECKS:
            raise VerificationError("too_many_attempts", attempts_left=0)
        if row.expires_at <= now:
            raise VerificationError("expired")

        # One UPDATE counts the attempt, so parallel checks can neither share the last
        # attempt nor both use the code; the row stays locked until this one commits.
        attempts = db.session.scalar(
            update(PhoneVerification)
            .where(PhoneVerification.id == row.id, PhoneVerification.consumed_at.is_(None),
                   PhoneVerification.attempts < MAX_CHECKS)
            .values(attempts=PhoneVerification.attempts + 1)
            .returning(PhoneVerification.attempts)
        )
        if attempts is None:  # a parallel check got there first
            db.session.refresh(row)
            if row.consumed_at is not None:
                raise VerificationError("no_code")
            raise VerificationError("too_many_attempts", attempts_left=0)

        digits = _clean(code)
        outcome = self._compare(e164, row, digits) if digits else "wrong"
        if outcome == "approved":
            row.consumed_at = now
            db.session.flush()
            return
        if outcome == "wrong":
            error = _wrong(MAX_CHECKS - attempts)
        elif outcome == "too_many_attempts":
            error = VerificationError(outcome, attempts_left=0)
        else:
            error = VerificationError(outcome, attempts_left=MAX_CHECKS - attempts)
        if outcome == "expired":
            row.expires_at = now  # later checks can answer without asking the provider again
        db.session.commit()
        raise error


class LocalVerifier(_Verifier):
    """Codes made here, stored only as a keyed hash, texted through the SMS queue after commit."""

    def _hash(self, digits, row):
        """Keyed hash bound to this row, so equal codes on two rows never hash alike."""
        return codes.hash_secret(digits, self.keys.code_hmac, context=row.id)

    def _deliver(self, e164, row, now):
        code = codes.generate_numeric_code(CODE_DIGITS)
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        body = f"CoreTet: your code is {code}. It expires in {minutes} minutes."
        messaging.queue_sms(self.keys, e164, body, purpose="phone_verification",
                            profile_id=row.profile_id)
        return self._hash(code, row)

    def _compare(self, e164, row, digits):
        same = codes.matches(digits, row.code_hash, self.keys.code_hmac, context=row.id)
        return "approved" if same else "wrong"


class TwilioVerifier(_Verifier):
    """Twilio Verify makes, texts and checks the code; the limits are still counted here."""

    def __init__(self, keys, account_sid, auth_token, service_sid, api_base=None, now=utcnow,
                 timeout=10):
        from twilio.rest import Client

        if not (account_sid and auth_token and service_sid):
            raise ValueError(
                "VERIFY_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_VERIFY_SERVICE_SID"
            )
        super().__init__(keys, now)
        client = Client(account_sid, auth_token, http_client=_http_client(api_base, timeout))
        self.service = client.verify.v2.services(service_sid)

    def _deliver(self, e164, row, now):
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            self.service.verifications.create(to=e164, channel="sms")
        except TwilioRestException as exc:
            if exc.status == 429 or exc.code == 60203:  # Twilio's own send limit for this number
                raise _too_many_sends(now + SEND_WINDOW, now) from exc
            raise VerificationError("unavailable") from exc
        except (TwilioException, OSError) as exc:
            raise VerificationError("unavailable") from exc
        return TWILIO_CODE_HASH

    def _compare(self, e164, row, digits):
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            result = self.service.verification_checks.create(to=e164, code=digits)
        except TwilioRestException as exc:
            if exc.status == 404:  # Twilio forgets a verification once it expires or is approved
                return "expired"
            if exc.code == 60202:  # Twilio's own check limit
                return "too_many_attempts"
            return "unavailable"
        except (TwilioException, OSError):
            return "unavailable"
        if result.status == "approved":
            return "approved"
        return "wrong" if result.status == "pending" else "expired"


def verifier_from_config(config, keys):
    """The verifier named by VERIFY_BACKEND ('local' or 'twilio')."""
    backend = config.get("VERIFY_BACKEND") or "local"
    if backend == "local":
        return LocalVerifier(keys)
    if backend == "twilio":
        return TwilioVerifier(
            keys, config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN"),
            config.get("TWILIO_VERIFY_SERVICE_SID"), api_base=config.get("TWILIO_API_BASE"),
        )
    raise ValueError(f"Unknown VERIFY_BACKEND {backend!r} (use 'local' or 'twilio')")
