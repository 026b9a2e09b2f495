"""Phone numbers: parsing with readable refusals, masking, blind index and encryption."""
import hashlib
import hmac
from dataclasses import dataclass
from typing import Iterable, Union

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

MAX_INPUT_LENGTH = 64
MASK_CHAR = "•"

COUNTRY_NAMES = {
    "US": "the United States",
    "CA": "Canada",
    "GB": "the United Kingdom",
    "IE": "Ireland",
    "AU": "Australia",
    "NZ": "New Zealand",
    "FR": "France",
    "DE": "Germany",
    "MX": "Mexico",
}

# Punctuation people type or paste between digits; anything else is refused.
_SEPARATORS = frozenset(" -.()/‐‑‒–—")

_BAD_COUNTRY = "That country code doesn't exist. Check the digits after the +."
_NOT_A_NUMBER = "That doesn't look like a phone number."
_TOO_SHORT = "That number is too short; some digits are missing."
_TOO_LONG = "That number is too long; there are extra digits."
_UNREADABLE = "The stored phone number can't be decrypted with the configured keys"

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: _BAD_COUNTRY,
    NumberParseException.NOT_A_NUMBER: _NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: _TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: _TOO_SHORT,
    NumberParseException.TOO_LONG: _TOO_LONG,
}

_POSSIBLE_ERRORS = {
    ValidationResult.INVALID_COUNTRY_CODE: _BAD_COUNTRY,
    ValidationResult.TOO_SHORT: _TOO_SHORT,
    ValidationResult.TOO_LONG: _TOO_LONG,
    ValidationResult.INVALID_LENGTH: "That number has the wrong number of digits for its country.",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "Include the area code.",
}


class PhoneError(ValueError):
    """A phone number was refused; the message tells the user why."""


class PhoneDecryptError(Exception):
    """A stored phone could not be decrypted with any configured key."""


@dataclass(frozen=True)
class ParsedPhone:
    """A validated number in storage (E.164), display and masked forms."""

    e164: str
    region: str
    international: str
    masked: str


def _country_list(codes: Iterable[str]) -> str:
    """Join country names for a sentence: "the United States and Canada"."""
    names = [COUNTRY_NAMES.get(code, code) for code in codes]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _allowed(allowed_countries) -> tuple:
    """Accept the allow-list as a tuple or a comma-separated config string."""
    if isinstance(allowed_countries, str):
        allowed_countries = allowed_countries.split(",")
    return tuple(code.strip().upper() for code in allowed_countries if code.strip())


def _clean(raw) -> str:
    """Strip what people wrap numbers in (tel: URI, 00 prefix) and refuse oversize input."""
    if not isinstance(raw, str) or not raw.strip():
        raise PhoneError("Enter a phone number.")
    text = raw.strip()
    if len(text) > MAX_INPUT_LENGTH:
        raise PhoneError("That is too long to be a phone number.")
    if text[:4].lower() == "tel:":
        text = text[4:].strip()
    # "00" is the international prefix in most of the world; phonenumbers only knows it
    # when the default region uses it, so treat it as "+" everywhere.
    if text.startswith("00"):
        text = "+" + text[2:]
    return text


def _check_characters(text: str) -> None:
    """Refuse letters and stray symbols so "call me" or vanity words never become digits."""
    body = text[1:] if text.startswith("+") else text
    for ch in body:
        if ch.isdecimal() or ch.isspace() or ch in _SEPARATORS:
            continue
        if ch.isalpha():
            raise PhoneError("Use digits only; letters can't be part of a phone number.")
        raise PhoneError(
            "A phone number can only contain digits, spaces, dashes, dots, brackets"
            " and a leading +."
        )


def _mask_international(international: str, country_code: int) -> str:
    """Hide every digit except the country code and the last four, keeping separators."""
    prefix = f"+{country_code}"
    rest = international[len(prefix):] if international.startswith(prefix) else international
    total = sum(ch.isdigit() for ch in rest)
    seen = 0
    out = []
    for ch in rest:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - 4 else MASK_CHAR)
        else:
            out.append(ch)
    return prefix + "".join(out)


def parse_phone(
    raw: str, default_region: str = "US", allowed_countries=("US", "CA")
) -> ParsedPhone:
    """Parse typed input into a textable number or raise PhoneError saying why not."""
    text = _clean(raw)
    try:
        number = phonenumbers.parse(text, default_region)
        parse_error = None
    except NumberParseException as exc:
        number, parse_error = None, exc

    if number is not None and number.extension:
        raise PhoneError("Leave out the extension; we can only text the main number.")
    _check_characters(text)
    if parse_error is not None:
        raise PhoneError(_PARSE_ERRORS.get(parse_error.error_type, _NOT_A_NUMBER))

    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE:
        raise PhoneError(_POSSIBLE_ERRORS.get(reason, _NOT_A_NUMBER))

    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(
            f"{international} is not a valid phone number. Check the area code and digits."
        )

    region = phonenumbers.region_code_for_number(number)
    allowed = _allowed(allowed_countries)
    if region not in allowed:
        if not allowed:
            raise PhoneError("We can't text any numbers right now.")
        raise PhoneError(f"We can only text numbers in {_country_list(allowed)} right now.")

    return ParsedPhone(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        region=region,
        international=international,
        masked=_mask_international(international, number.country_code),
    )


def _parse_stored(e164: str):
    """Parse a stored E.164 number, or None if it isn't one."""
    try:
        return phonenumbers.parse(e164, None)
    except (NumberParseException, TypeError):
        return None


def display(e164: str) -> str:
    """Show a stored number in international format ("+1 415-555-0100")."""
    number = _parse_stored(e164)
    if number is None:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def mask(e164: str) -> str:
    """Show a stored number with all but the country code and last four digits hidden."""
    number = _parse_stored(e164)
    if number is None:
        digits = "".join(ch for ch in str(e164) if ch.isdigit())
        return MASK_CHAR * max(0, len(digits) - 4) + digits[-4:]
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return _mask_international(international, number.country_code)


def _bytes(value: Union[bytes, str]) -> bytes:
    """Accept key material from config as text or bytes."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def blind_index(e164: str, key: Union[bytes, str]) -> str:
    """Keyed HMAC-SHA256 of a number, so grants can be looked up without storing the number."""
    key_bytes = _bytes(key)
    if not key_bytes:
        raise ValueError("The blind index key must not be empty")
    return hmac.new(key_bytes, e164.encode("utf-8"), hashlib.sha256).hexdigest()


def _fernet(keys) -> MultiFernet:
    """Build a MultiFernet from one key, a comma-separated string or a list; the first encrypts."""
    if isinstance(keys, bytes):
        keys = keys.decode("ascii", errors="replace")
    if isinstance(keys, str):
        keys = keys.split(",")
    parts = [key.strip() for key in keys if key.strip()]
    if not parts:
        raise ValueError("No phone encryption key is configured")
    try:
        return MultiFernet([Fernet(part) for part in parts])
    except ValueError as exc:
        raise ValueError(
            "A phone encryption key is not a valid Fernet key (32 url-safe base64 bytes)"
        ) from exc


def encrypt_phone(e164: str, fernet_key) -> str:
    """Encrypt a number for later re-sending, with the first configured key."""
    return _fernet(fernet_key).encrypt(e164.encode("utf-8")).decode("ascii")


def decrypt_phone(token: str, fernet_key) -> str:
    """Decrypt a stored number with any configured key, so old keys keep working."""
    try:
        return _fernet(fernet_key).decrypt(_bytes(token)).decode("utf-8")
    except InvalidToken:
        raise PhoneDecryptError(_UNREADABLE) from None


def reencrypt_phone(token: str, fernet_key) -> str:
    """Re-encrypt a stored number under the first key, to retire old keys after rotation."""
    try:
        return _fernet(fernet_key).rotate(_bytes(token)).decode("ascii")
    except InvalidToken:
        raise PhoneDecryptError(_UNREADABLE) from None
