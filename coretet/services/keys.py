"""The secret keys services need, gathered from settings once so services never read Flask config."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    phone_hmac: str
    code_hmac: str
    phone_encryption: str  # one Fernet key, or several comma-separated (first encrypts)


def keys_from_config(config):
    return Keys(config["PHONE_HMAC_KEY"], config["CODE_HMAC_KEY"], config["PHONE_ENCRYPTION_KEY"])
