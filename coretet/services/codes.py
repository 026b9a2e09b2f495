"""Access codes, verification codes and share tokens: generation, entry and keyed hashing."""
import hashlib
import hmac
import secrets
from typing import Optional, Union

# 32 symbols: digits 0/1 and letters O/I are left out because people misread them.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6

_ALPHABET_SET = frozenset(ALPHABET)
# Characters people type between groups ("A7K 9M2", "A7K-9M2"); other whitespace is dropped too.
_SEPARATORS = frozenset("-‐‑‒–—_")

MIN_TOKEN_BYTES = 16


def generate_code() -> str:
    """Return a fresh 6-symbol access code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw) -> Optional[str]:
    """Turn typed input into a canonical code, or None if it can't be a valid code."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    code = "".join(ch for ch in raw if not ch.isspace() and ch not in _SEPARATORS)
    # ASCII only before upper-casing: "ſ".upper() is "S", which would let look-alikes in.
    if not code.isascii():
        return None
    code = code.upper()
    if len(code) != CODE_LENGTH or not set(code) <= _ALPHABET_SET:
        return None
    return code


def _key_bytes(key: Union[bytes, str]) -> bytes:
    """Accept a key as bytes or text from config, refusing an empty key."""
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not data:
        raise ValueError("The HMAC key must not be empty")
    return data


def hash_secret(secret: str, key: Union[bytes, str], context) -> str:
    """Keyed HMAC-SHA256 of a short secret, bound to its row so equal secrets hash differently."""
    context_text = str(context)
    # Length-prefixing the context keeps ("ab", "C...") and ("a", "bC...") apart.
    message = f"{len(context_text)}:{context_text}:{secret}".encode("utf-8")
    return hmac.new(_key_bytes(key), message, hashlib.sha256).hexdigest()


def matches(secret: str, stored_hash, key: Union[bytes, str], context) -> bool:
    """Compare a secret with its stored hash in constant time."""
    if not isinstance(stored_hash, str):
        return False
    candidate = hash_secret(secret, key, context)
    return hmac.compare_digest(candidate.encode("ascii"), stored_hash.encode("utf-8"))


def hash_code(code: str, key: Union[bytes, str], context) -> str:
    """Hash an access code with a secret key, bound to its grant so equal codes differ."""
    canonical = normalize_code(code)
    if canonical is None:
        raise ValueError("Only a valid access code can be hashed")
    return hash_secret(canonical, key, context)


def verify_code(raw, stored_hash: str, key: Union[bytes, str], context) -> bool:
    """Check typed input against a stored hash in constant time."""
    canonical = normalize_code(raw)
    return canonical is not None and matches(canonical, stored_hash, key, context)


def generate_numeric_code(digits: int = 6) -> str:
    """Return a zero-padded random numeric code for phone verification."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a whole number of at least 1, got {digits!r}")
    return str(secrets.randbelow(10**digits)).zfill(digits)


def generate_token(nbytes: int = 32) -> str:
    """Return a URL-safe random token; at least 16 bytes so links stay unguessable."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < MIN_TOKEN_BYTES:
        raise ValueError(f"nbytes must be at least {MIN_TOKEN_BYTES} (128 bits), got {nbytes!r}")
    return secrets.token_urlsafe(nbytes)
