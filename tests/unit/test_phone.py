"""Phone parsing, masking, blind index and encryption."""
import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from coretet.services.phone import (
    PhoneDecryptError,
    PhoneError,
    blind_index,
    decrypt_phone,
    display,
    encrypt_phone,
    mask,
    parse_phone,
    reencrypt_phone,
)

NOT_ALLOWED = "We can only text numbers in the United States and Canada right now."
KEY = b"test-blind-index-key"


@pytest.mark.parametrize(
    "raw",
    [
        "(201) 555-0123",
        "(201)555-0123",
        "201.555.0123",
        "201-555-0123",
        "201 555 0123",
        "2015550123",
        "1 201 555 0123",
        "1-201-555-0123",
        "+1 201 555 0123",
        "+1 (201) 555-0123",
        "+12015550123",
        "001 201 555 0123",
        "tel:+1-201-555-0123",
        "TEL:+12015550123",
        "  201/555-0123  ",
        "201\u2013555\u20130123",
        "+1\u00a0201\u00a0555\u00a00123",
        "\uff12\uff10\uff11\uff15\uff15\uff15\uff10\uff11\uff12\uff13",
    ],
)
def test_common_us_formats_are_the_same_number(raw):
    parsed = parse_phone(raw)
    assert parsed.e164 == "+12015550123"
    assert parsed.region == "US"
    assert parsed.international == "+1 201-555-0123"
    assert parsed.masked == "+1 •••-•••-0123"


@pytest.mark.parametrize(
    "raw, e164",
    [
        ("613-555-0123", "+16135550123"),
        ("+1 416 555 0123", "+14165550123"),
        ("604.555.0199", "+16045550199"),
    ],
)
def test_canadian_numbers_are_accepted(raw, e164):
    parsed = parse_phone(raw)
    assert (parsed.e164, parsed.region) == (e164, "CA")


@pytest.mark.parametrize(
    "raw",
    [
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "011 44 20 7946 0958",
        "+33 1 23 45 67 89",
        "+49 30 1234567",
        "+61 2 9876 5432",
        "+81 3-1234-5678",
        "+1 876 210 1234",
        "+1 242 359 1234",
    ],
)
def test_valid_numbers_outside_us_and_canada_are_refused(raw):
    with pytest.raises(PhoneError, match="United States and Canada"):
        parse_phone(raw)


def test_refusal_message_for_allow_list_is_exact():
    with pytest.raises(PhoneError) as excinfo:
        parse_phone("+44 20 7946 0958")
    assert str(excinfo.value) == NOT_ALLOWED


def test_allow_list_from_config_string_lets_a_country_in():
    parsed = parse_phone("+44 20 7946 0958", allowed_countries="US, CA, GB")
    assert parsed.region == "GB"
    assert parsed.masked == "+44 •• •••• 0958"


def test_unknown_allow_list_code_falls_back_to_the_code_in_the_message():
    with pytest.raises(PhoneError, match="only text numbers in the United States and ZZ"):
        parse_phone("+44 20 7946 0958", allowed_countries=("US", "ZZ"))


def test_national_numbers_use_the_default_region():
    parsed = parse_phone("020 7946 0958", default_region="GB", allowed_countries=("GB",))
    assert parsed.e164 == "+442079460958"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "Enter a phone number."),
        ("   ", "Enter a phone number."),
        ("(555) 123-4567", "+1 555-123-4567 is not a valid phone number"),
        ("+1 800 555 01", "too short"),
        ("+1 201 555 012", "too short"),
        ("+1 201 555 01234", "too long"),
        ("555-0123", "Include the area code."),
        ("+999 1234", "country code doesn't exist"),
        ("+", "doesn't look like a phone number"),
        ("call me", "letters"),
        ("1-800-FLOWERS", "letters"),
        ("201*555*0123", "can only contain digits"),
        ("++1 201 555 0123", "can only contain digits"),
        ("201-555-0123 ext. 5", "extension"),
        ("2015550123x5", "extension"),
        ("tel:+1-201-555-0123;ext=5", "extension"),
        ("1" * 65, "too long to be a phone number"),
    ],
)
def test_bad_input_is_refused_with_a_reason(raw, message):
    with pytest.raises(PhoneError, match=message.replace("+", r"\+").replace("(", r"\(")):
        parse_phone(raw)


def test_non_text_input_is_refused_like_empty_input():
    with pytest.raises(PhoneError, match="Enter a phone number."):
        parse_phone(None)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_parse_phone_on_any_text_only_ever_raises_phone_error(raw):
    try:
        parsed = parse_phone(raw)
    except PhoneError as exc:
        assert str(exc)
    else:
        assert parsed.e164.startswith("+1")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 +-.()", max_size=30))
def test_parse_phone_on_digit_soup_only_ever_raises_phone_error(raw):
    try:
        parse_phone(raw)
    except PhoneError:
        pass


def test_display_and_mask_of_stored_number():
    assert display("+14155550100") == "+1 415-555-0100"
    assert mask("+14155550100") == "+1 •••-•••-0100"
    assert mask("+442079460958") == "+44 •• •••• 0958"


def test_mask_never_reveals_more_than_last_four_digits_of_garbage():
    assert mask("12345678").endswith("5678")
    assert "1234" not in mask("12345678")


def test_equivalent_inputs_share_one_blind_index():
    formats = ["(201) 555-0123", "201.555.0123", "+1 201 555 0123", "001 201 555 0123"]
    indexes = {blind_index(parse_phone(raw).e164, KEY) for raw in formats}
    assert len(indexes) == 1


def test_blind_index_is_keyed_not_a_plain_hash():
    import hashlib

    index = blind_index("+12015550123", KEY)
    assert index != blind_index("+12015550123", b"another-key")
    assert index != hashlib.sha256(b"+12015550123").hexdigest()
    assert len(index) == 64 and int(index, 16) >= 0


def test_blind_index_accepts_text_key_from_config():
    assert blind_index("+12015550123", "test-blind-index-key") == blind_index("+12015550123", KEY)


def test_blind_index_refuses_empty_key():
    with pytest.raises(ValueError):
        blind_index("+12015550123", b"")


def test_different_numbers_have_different_blind_indexes():
    assert blind_index("+12015550123", KEY) != blind_index("+12015550124", KEY)


def test_encryption_round_trip_hides_the_number():
    key = Fernet.generate_key()
    token = encrypt_phone("+12015550123", key)
    assert "2015550123" not in token
    assert decrypt_phone(token, key) == "+12015550123"
    assert decrypt_phone(token, key.decode()) == "+12015550123"


def test_rotation_new_key_encrypts_old_key_still_decrypts():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_token = encrypt_phone("+12015550123", old)
    rotated = f"{new},{old}"
    assert decrypt_phone(old_token, rotated) == "+12015550123"

    new_token = encrypt_phone("+12015550123", rotated)
    assert decrypt_phone(new_token, new) == "+12015550123"
    with pytest.raises(PhoneDecryptError):
        decrypt_phone(new_token, old)


def test_reencrypt_moves_a_stored_number_to_the_new_key():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = encrypt_phone("+12015550123", old)
    moved = reencrypt_phone(token, [new, old])
    assert decrypt_phone(moved, new) == "+12015550123"


def test_decrypting_with_a_wrong_key_is_a_clear_error():
    token = encrypt_phone("+12015550123", Fernet.generate_key())
    with pytest.raises(PhoneDecryptError):
        decrypt_phone(token, Fernet.generate_key())


@pytest.mark.parametrize("key", ["", " , ", "not-a-fernet-key"])
def test_misconfigured_encryption_key_is_refused(key):
    with pytest.raises(ValueError):
        encrypt_phone("+12015550123", key)
