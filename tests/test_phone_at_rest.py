"""Account holders' phones at rest (QUALITY "secrets at rest", SPEC §2): blind index + ciphertext, never clear.

Covers the whole path: sign-up and verification store no number in clear in any
table or log line, the number is still found, shown and linked, equivalent
formats still collide, rotated keys still open old rows, and migration 0004
moves existing clear numbers there and back on both databases.
"""
import dataclasses
import logging
import re
import uuid
from contextlib import ExitStack
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy.exc import IntegrityError

from coretet.extensions import db
from coretet.models import AccessGrant, Profile, utcnow
from coretet.services import accounts, bands, sharing, workspaces
from coretet.services.keys import keys_from_config
from coretet.services.phone import PhoneDecryptError, blind_index, encrypt_phone
from coretet.services.workspaces import Workspace
from tests.auth_helpers import csrf, csrf_from, latest_code, sign_in
from tests.conftest import build_app, throwaway_postgres_database
from tests.factories import PASSWORD, make_band, make_playlist, make_profile
from tests.share_factories import add_grant, make_share


@pytest.fixture
def keys(app):
    return keys_from_config(app.config)


def sign_up_and_verify(client, app, phone, email="jo@example.com"):
    response = client.post("/signup", data={"name": "Jo Park", "email": email, "password": PASSWORD,
                                            "phone": phone, "csrf_token": csrf(client, "/signup")})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/verify").get_data(as_text=True)
    verified = client.post("/verify", data={"code": latest_code(app), "csrf_token": csrf_from(page)})
    assert verified.status_code == 302 and "/verify" not in verified.headers["Location"]
    db.session.expire_all()
    return db.session.scalar(select(Profile).where(Profile.email == email))


def digits_in_every_table():
    """Each table's rows as one string of digits, so any format of a number ("+1 201…", "(201) …") shows."""
    dumps = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(text(f"SELECT * FROM {table.name}")).all()
        dumps[table.name] = re.sub(r"\D", "", " ".join(str(value) for row in rows for value in row))
    return dumps


def test_a_dump_of_every_table_holds_no_account_phone_after_sign_up_and_verification(app, client, keys, caplog):
    """Verified account phones (signed up, factory-made, owners who share) are in no table and no log line."""
    caplog.set_level(logging.DEBUG)
    owner = make_profile(email="owner@example.com", tier="band", phone="(201) 555-0180")
    sharing.create_share(Workspace(owner), make_playlist(owner), owner, [("+12015550181", "Sam")], 7, keys,
                         lambda token: f"http://coretet.test/listen/{token}")
    bands.invite_by_phone(workspaces.resolve(owner, str(make_band(owner).id)), "+12015550182", keys=keys,
                          link_for=lambda token: f"/invites/{token}")
    profile = sign_up_and_verify(client, app, "201.555.0183")
    assert profile.phone_verified and profile.phone_blind_index and profile.phone_encrypted

    national = ["2015550180", "2015550181", "2015550182", "2015550183"]
    for table, digits in digits_in_every_table().items():
        assert not [n for n in national if n in digits], f"a phone number in clear in {table}"
    columns = {column["name"] for column in inspect(db.engine).get_columns("profiles")}
    assert "phone_number" not in columns
    logged = re.sub(r"\D", "", " ".join(record.getMessage() for record in caplog.records))
    assert not [n for n in national if n in logged]


def test_the_stored_number_is_still_found_shown_and_linked(app, client, keys):
    """Lookup by any typed form finds the account; settings show the number; texted shares are claimed."""
    sharer = make_profile(name="Alex")
    share = make_share(sharer, expires_at=utcnow() + timedelta(days=7))
    grant = add_grant(share, "+12015550184", keys)

    profile = sign_up_and_verify(client, app, "+1 (201) 555-0184")

    assert accounts.phone_of(profile, keys) == "+12015550184"
    assert accounts.find_by_phone("+12015550184", keys).id == profile.id
    assert accounts.find_by_phone("+12015550185", keys) is None
    assert "+1 201-555-0184" in client.get("/account").get_data(as_text=True)
    db.session.refresh(grant)
    assert grant.claimed_by == profile.id  # linking at verification matched the blind indexes


def test_signing_in_claims_shares_sent_to_the_account_phone(app, client, keys):
    recipient = make_profile(email="kim@example.com", phone="2015550186")
    share = make_share(make_profile(), expires_at=utcnow() + timedelta(days=7))
    grant = add_grant(share, "+12015550186", keys)

    assert sign_in(client, "kim@example.com").status_code == 302

    db.session.refresh(grant)
    assert grant.claimed_by == recipient.id


@pytest.mark.parametrize("typed", ["(201) 555-0187", "201.555.0187", "+1 201 555 0187", "0012015550187"])
def test_the_same_number_in_another_format_is_refused_at_sign_up_and_in_settings(app, client, typed):
    make_profile(email="first@example.com", phone="+12015550187")

    signup = client.post("/signup", data={"name": "Jo", "email": "jo@example.com", "password": PASSWORD,
                                          "phone": typed, "csrf_token": csrf(client, "/signup")})
    assert signup.status_code == 422
    assert "This number already belongs to an account." in signup.get_data(as_text=True)

    make_profile(email="second@example.com")
    other = app.test_client()
    sign_in(other, "second@example.com")
    changed = other.post("/account/phone", data={"phone": typed, "csrf_token": csrf(other, "/account/phone")})
    assert changed.status_code == 422
    assert "This number already belongs to another account." in changed.get_data(as_text=True)


def test_the_database_refuses_a_second_account_with_the_same_number(app, keys):
    """Uniqueness is the database's job (a unique blind index), not only the forms'."""
    make_profile(phone="+12015550188")
    twin = Profile(email="twin@example.com", name="Twin", password_hash="!", tier="free")
    accounts.set_phone(twin, "+12015550188", keys)
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    late = make_profile(email="late@example.com")
    with pytest.raises(accounts.AccountError, match="already belongs to another account"):
        accounts.attach_verified_phone(late, "+12015550188", keys)


def test_set_phone_takes_only_normalised_numbers_and_none_removes_it(app, keys):
    profile = make_profile()
    for raw in ("(201) 555-0189", "2015550189", "+1 201 555 0189", "", "call me"):
        with pytest.raises(ValueError, match="E.164"):
            accounts.set_phone(profile, raw, keys)
    accounts.set_phone(profile, "+12015550189", keys)
    assert accounts.phone_of(profile, keys) == "+12015550189"
    accounts.set_phone(profile, None, keys)
    assert (profile.phone_blind_index, profile.phone_encrypted, accounts.phone_of(profile, keys)) == (None, None, None)


def test_after_key_rotation_old_rows_still_decrypt_and_new_ones_use_the_new_key(app, client, keys, monkeypatch):
    """PHONE_ENCRYPTION_KEY="new,old": numbers stored under the old key still open, on pages too."""
    old = keys.phone_encryption
    make_profile(email="kim@example.com", phone="+12015550190")
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "PHONE_ENCRYPTION_KEY", f"{new},{old}")
    rotated = keys_from_config(app.config)

    profile = db.session.scalar(select(Profile).where(Profile.email == "kim@example.com"))
    assert accounts.phone_of(profile, rotated) == "+12015550190"
    sign_in(client, "kim@example.com")
    assert "+1 201-555-0190" in client.get("/account").get_data(as_text=True)
    assert accounts.find_by_phone("+12015550190", rotated).id == profile.id  # the blind index key did not change

    accounts.set_phone(profile, "+12015550191", rotated)
    assert accounts.phone_of(profile, dataclasses.replace(rotated, phone_encryption=new)) == "+12015550191"
    with pytest.raises(PhoneDecryptError):
        accounts.phone_of(profile, keys)  # written with the new key: the old one alone can't open it


def test_a_phone_the_keys_cannot_open_still_leaves_the_settings_page_readable(app, client, monkeypatch):
    make_profile(email="kim@example.com", phone="+12015550192")
    monkeypatch.setitem(app.config, "PHONE_ENCRYPTION_KEY", Fernet.generate_key().decode())
    sign_in(client, "kim@example.com")

    page = client.get("/account")

    assert page.status_code == 200
    assert "it can&#39;t be shown right now" in page.get_data(as_text=True)


# Migration 0004 on a database of its own, with rows written while the number was still in clear.

@pytest.fixture
def migrated_app(request, backend, tmp_path):
    with ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'phones.db'}"
        else:
            url = stack.enter_context(throwaway_postgres_database(request.getfixturevalue("postgres_url"),
                                                                  prefix="coretet_phones"))
        app = build_app(url, tmp_path)
        with app.app_context():
            yield app
            db.engine.dispose()


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


def insert_clear_profiles(numbers):
    """Profiles as revision 0003 stored them: phone_number in clear."""
    with db.engine.begin() as conn:
        profiles = Table("profiles", MetaData(), autoload_with=conn)
        now = utcnow()
        conn.execute(profiles.insert(), [
            {"id": uuid.uuid4().hex, "email": f"p{i}@example.com", "password_hash": "!", "name": f"P{i}",
             "phone_number": number, "phone_verified_at": now if number else None, "is_admin": False,
             "tier": "free", "storage_used": 0, "storage_limit": 1, "purchased_sms_credits": 0,
             "created_at": now, "updated_at": now}
            for i, number in enumerate(numbers)
        ])


def clear_numbers():
    with db.engine.connect() as conn:
        return dict(conn.execute(text("SELECT email, phone_number FROM profiles")).all())


def verify_passes(app):
    result = app.test_cli_runner().invoke(args=["db", "verify"])
    assert result.exit_code == 0, result.output


def test_migration_0004_moves_clear_numbers_to_ciphertext_and_back_on_both_databases(migrated_app):
    app, keys = migrated_app, keys_from_config(migrated_app.config)
    run(app, "db", "downgrade", "0003")
    numbers = {"p0@example.com": "+12015550170", "p1@example.com": "+14155550171", "p2@example.com": None}
    insert_clear_profiles(list(numbers.values()))

    def check_encrypted():
        db.session.expire_all()
        profiles = {p.email: p for p in db.session.scalars(select(Profile))}
        assert {email: accounts.phone_of(p, keys) for email, p in profiles.items()} == numbers
        assert profiles["p0@example.com"].phone_blind_index == blind_index("+12015550170", keys.phone_hmac)
        assert accounts.find_by_phone("+14155550171", keys).email == "p1@example.com"
        assert profiles["p0@example.com"].phone_verified and not profiles["p2@example.com"].phone_verified
        assert "phone_number" not in {c["name"] for c in inspect(db.engine).get_columns("profiles")}
        for table, digits in digits_in_every_table().items():
            assert "2015550170" not in digits and "4155550171" not in digits, table
        db.session.commit()
        verify_passes(app)  # columns, the unique blind index and the storage triggers (rebuilt on SQLite)

    run(app, "db", "upgrade")
    check_encrypted()

    run(app, "db", "downgrade", "0003")
    assert clear_numbers() == numbers

    run(app, "db", "upgrade")
    check_encrypted()
    twin = Profile(email="twin@example.com", name="Twin", password_hash="!", tier="free")
    accounts.set_phone(twin, "+12015550170", keys)
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_downgrade_stops_without_changing_anything_when_the_keys_cannot_decrypt(migrated_app, caplog):
    app = migrated_app
    db.session.add(Profile(email="kim@example.com", name="Kim", password_hash="!", tier="free",
                           phone_blind_index="0" * 64, phone_encrypted=encrypt_phone(
                               "+12015550172", Fernet.generate_key().decode())))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["db", "downgrade", "0003"])

    assert result.exit_code != 0
    assert "can't be decrypted with the configured keys; set PHONE_ENCRYPTION_KEY" in caplog.text
    db.session.expire_all()
    assert db.session.scalar(select(Profile.phone_encrypted).where(Profile.email == "kim@example.com"))
    verify_passes(app)
