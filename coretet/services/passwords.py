"""Password rules (SPEC §2): 10 to 128 characters and not easy to guess (zxcvbn)."""
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128


def password_problem(password, user_inputs=()):
    """Why this password is refused, in words a person can act on; None when it is fine."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters ({len(password)} so far)."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    inputs = [part[:100] for part in user_inputs if part]
    result = zxcvbn(password, user_inputs=inputs, max_length=MAX_LENGTH)
    if result["score"] < 2:
        warning = result["feedback"]["warning"] or "This password is too easy to guess."
        return f"{warning.rstrip('.')}. Try a few uncommon words together."
    return None
