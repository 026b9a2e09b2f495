"""Access codes, verification codes and share tokens."""
import hashlib
import hmac
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coretet.services.codes import (
    ALPHABET,
    CODE_LENGTH,
    generate_code,
    generate_numeric_code,
    generate_token,
    hash_code,
    normalize_code,
    verify_code,
)

KEY = b"test-code-key"


def test_alphabet_has_32_unambiguous_symbols():
    assert len(ALPHABET) == 32
    assert len(set(ALPHABET)) == 32
    assert not set("0O1I") & set(ALPHABET)
    assert CODE_LENGTH == 6


def test_generated_codes_are_six_symbols_from_the_alphabet():
    code = generate_code()
    assert len(code) == 6
    assert set(code) <= set(ALPHABET)


def test_100k_codes_avoid_confusable_symbols_and_collide_only_by_chance():
    n = 100_000
    codes = [generate_code() for _ in range(n)]
    assert not set("".join(codes)) & set("0O1I")
    duplicates = n - len(set(codes))
    # Birthday bound: about n² / (2 · 32⁶) ≈ 4.7 expected collisions.
    assert duplicates < 25


def test_generated_codes_use_the_whole_alphabet_evenly():
    counts = Counter("".join(generate_code() for _ in range(20_000)))
    assert set(counts) == set(ALPHABET)
    expected = 20_000 * 6 / 32
    assert all(abs(c - expected) < expected * 0.15 for c in counts.values())


@pytest.mark.parametrize(
    "raw",
    ["A7K9M2", "a7k9m2", "a7k 9m2", "A7K-9M2", " A7K 9M2 ", "a-7-k-9-m-2", "A7K\t9M2", "A7K–9M2"],
)
def test_typed_code_is_case_insensitive_and_ignores_spaces_and_dashes(raw):
    assert normalize_code(raw) == "A7K9M2"


@pytest.mark.parametrize(
    "raw",
    [
        "", "A7K9M", "A7K9M22", "A7K9MO", "A7K9M0", "A7K9M1", "A7K9MI",
        "A7K9M!", "A7K.9M2", "ſ7K9M2", None, 123456,
    ],
)
def test_code_with_wrong_length_or_confusable_symbols_is_invalid(raw):
    assert normalize_code(raw) is None


@given(st.text())
def test_normalize_code_never_raises(raw):
    result = normalize_code(raw)
    assert result is None or (len(result) == 6 and set(result) <= set(ALPHABET))


def test_code_hash_is_keyed_and_hides_the_code():
    digest = hash_code("A7K9M2", KEY, "grant-1")
    assert len(digest) == 64
    assert "A7K9M2" not in digest
    assert digest != hashlib.sha256(b"A7K9M2").hexdigest()
    assert digest != hash_code("A7K9M2", b"other-key", "grant-1")


def test_same_code_in_two_grants_hashes_differently():
    assert hash_code("A7K9M2", KEY, "grant-1") != hash_code("A7K9M2", KEY, "grant-2")


def test_context_boundary_cannot_be_shifted_into_the_code():
    assert hash_code("A7K9M2", KEY, "12") != hash_code("A7K9M2", KEY, "1")
    assert hash_code("A7K9M2", KEY, 12) == hash_code("A7K9M2", KEY, "12")


def test_hashing_uses_the_canonical_code():
    assert hash_code("a7k-9m2", KEY, "g") == hash_code("A7K9M2", KEY, "g")


def test_only_valid_codes_can_be_hashed():
    with pytest.raises(ValueError):
        hash_code("OOOOOO", KEY, "g")


def test_empty_hmac_key_is_refused():
    with pytest.raises(ValueError):
        hash_code("A7K9M2", b"", "g")


def test_verify_accepts_the_code_however_it_is_typed():
    stored = hash_code("A7K9M2", KEY, "grant-7")
    for typed in ("A7K9M2", "a7k 9m2", "A7K-9M2"):
        assert verify_code(typed, stored, KEY, "grant-7")


def test_verify_refuses_wrong_code_other_grant_other_key_and_garbage():
    stored = hash_code("A7K9M2", KEY, "grant-7")
    assert not verify_code("A7K9M3", stored, KEY, "grant-7")
    assert not verify_code("A7K9M2", stored, KEY, "grant-8")
    assert not verify_code("A7K9M2", stored, b"other", "grant-7")
    assert not verify_code("nonsense", stored, KEY, "grant-7")
    assert not verify_code("A7K9M2", None, KEY, "grant-7")
    assert not verify_code("A7K9M2", "ünïcode", KEY, "grant-7")


def test_verify_uses_constant_time_comparison(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    verify_code("A7K9M2", hash_code("A7K9M2", KEY, "g"), KEY, "g")
    assert calls


def test_numeric_verification_code_is_zero_padded_digits():
    codes = [generate_numeric_code() for _ in range(2000)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert any(c.startswith("0") for c in codes)
    assert len(generate_numeric_code(8)) == 8


@pytest.mark.parametrize("digits", [0, -1, 2.5])
def test_numeric_code_needs_a_positive_length(digits):
    with pytest.raises(ValueError):
        generate_numeric_code(digits)


def test_share_tokens_are_url_safe_and_carry_at_least_128_bits():
    tokens = {generate_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) >= 43 and set(t) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    ) for t in tokens)
    assert len(generate_token(16)) >= 22


def test_tokens_shorter_than_128_bits_are_refused():
    with pytest.raises(ValueError):
        generate_token(15)
