"""Producer waitlist: joining once per email, the place in the queue, and the admin list, chart and CSV."""
import csv
import io
import threading
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from coretet.extensions import db
from coretet.models import ProducerWaitlist
from coretet.services import outbox, tiers, waitlist
from tests.auth_helpers import csrf, latest_email, sign_in
from tests.factories import make_profile

PAGE = "/producer/waitlist"


def emails(app):
    return outbox.read(app.config["OUTBOX_DIR"], "email")


def entry_count():
    return db.session.scalar(select(func.count()).select_from(ProducerWaitlist))


def hx_join(client, email, name="Sam Rivera", reason="Mixing three albums at once."):
    headers = {"HX-Request": "true", "X-CSRFToken": csrf(client, PAGE)}
    return client.post(PAGE, headers=headers, data={"email": email, "name": name, "reason": reason})


def signed_in(app, **profile_args):
    profile = make_profile(**profile_args)
    client = app.test_client()
    sign_in(client, profile.email)
    return profile, client


def test_page_shows_the_producer_numbers_and_the_form(client):
    page = client.get(PAGE).get_data(as_text=True)
    producer, rows = tiers.plan_offer("producer")
    assert producer.price_label in page and all(value in page for _, value in rows)
    assert 'name="email"' in page and 'name="name"' in page and "<textarea" in page
    assert 'hx-post="/producer/waitlist/check"' in page


def test_signed_in_user_finds_their_email_filled_in(app):
    profile, client = signed_in(app)
    assert f'value="{profile.email}"' in client.get(PAGE).get_data(as_text=True)


def test_invalid_email_is_refused_inline_next_to_the_field(app, client):
    headers = {"HX-Request": "true", "X-CSRFToken": csrf(client, PAGE)}
    check = client.post(f"{PAGE}/check", headers=headers, data={"email": "not-an-email"})
    fragment = check.get_data(as_text=True)
    assert 'id="email-feedback"' in fragment and "field-error" in fragment and "<html" not in fragment
    response = hx_join(client, "not-an-email")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    email_field = page[page.index('id="email"'):page.index('id="email-feedback"') + 200]
    assert "field-error" in email_field
    assert entry_count() == 0 and emails(app) == []


def test_valid_email_passes_the_inline_check(client):
    headers = {"HX-Request": "true", "X-CSRFToken": csrf(client, PAGE)}
    fragment = client.post(f"{PAGE}/check", headers=headers, data={"email": "sam@example.com"}).get_data(as_text=True)
    assert "field-error" not in fragment


def test_joining_gives_position_one_and_a_confirmation_email(app, client):
    response = hx_join(client, "Sam@Example.com")
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert "You're on the list — number 1" in fragment
    entry = db.session.scalar(select(ProducerWaitlist))
    assert (entry.email, entry.name, entry.reason) == ("sam@example.com", "Sam Rivera", "Mixing three albums at once.")
    mail = latest_email(app, "sam@example.com")
    assert mail is not None and "number 1" in mail["body"]


def test_joining_twice_in_another_case_says_already_with_the_same_position_and_no_second_email(app, client):
    hx_join(client, "first@example.com")
    hx_join(client, "sam@example.com")
    again = hx_join(app.test_client(), "SAM@EXAMPLE.COM", name="Someone Else").get_data(as_text=True)
    assert "You're already on the list — number 2" in again
    assert entry_count() == 2 and len(emails(app)) == 2
    kept = select(ProducerWaitlist.name).where(ProducerWaitlist.email == "sam@example.com")
    assert db.session.scalar(kept) == "Sam Rivera"


def test_signed_in_join_links_the_profile(app):
    profile, client = signed_in(app, tier="band")
    hx_join(client, profile.email)
    assert db.session.scalar(select(ProducerWaitlist.profile_id)) == profile.id


def test_form_works_without_javascript(app, client):
    data = {"email": "plain@example.com", "name": "Plain Form", "reason": "", "csrf_token": csrf(client, PAGE)}
    page = client.post(PAGE, data=data).get_data(as_text=True)
    assert "<html" in page and "You're on the list — number 1" in page


def test_overlong_reason_is_refused(client):
    response = hx_join(client, "long@example.com", reason="x" * 1001)
    assert response.status_code == 422 and "1000 characters" in response.get_data(as_text=True)
    assert entry_count() == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.one_of(st.emails(), st.text(max_size=300)), name=st.text(max_size=120),
       reason=st.text(max_size=1100))
def test_no_input_breaks_the_form(client, email, name, reason):
    assert hx_join(client, email, name=name, reason=reason).status_code in (200, 422)


def test_control_characters_in_the_reason_are_refused(client):
    response = hx_join(client, "nul@example.com", reason="hi\x00there")
    assert response.status_code == 422 and entry_count() == 0


def test_concurrent_duplicate_joins_make_one_entry(pg_app, race_app):
    barrier = threading.Barrier(6, timeout=60)
    outcomes = []

    def run():
        with race_app.app_context():
            barrier.wait()
            try:
                _, position, created = waitlist.join("race@example.com", "Racer", "")
                outcomes.append((position, created))
            except Exception as exc:  # kept so the assertion shows it
                outcomes.append(exc)

    workers = [threading.Thread(target=run) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(outcomes) == [(1, False)] * 5 + [(1, True)]
    assert entry_count() == 1


def test_admin_pages_are_404_for_anonymous_and_non_admins(app, client):
    _, member = signed_in(app, tier="band")
    for path in ("/admin/waitlist", "/admin/waitlist.csv"):
        assert client.get(path).status_code == 404
        assert member.get(path).status_code == 404


def test_admin_sees_the_entries_and_the_weekly_chart(app, client):
    hx_join(client, "sam@example.com", reason="Scoring a film")
    _, admin = signed_in(app, is_admin=True)
    assert 'href="/admin/waitlist"' in admin.get("/admin/").get_data(as_text=True)
    page = admin.get("/admin/waitlist").get_data(as_text=True)
    assert "sam@example.com" in page and "Sam Rivera" in page and "Scoring a film" in page
    assert page.count('class="week-bar"') == 12 and 'href="/admin/waitlist.csv"' in page


def test_csv_export_has_a_header_and_escapes_formulas(app, client):
    hx_join(client, "sam@example.com", name="=HYPERLINK(1)", reason="+1 more, -2 less, @me")
    _, admin = signed_in(app, is_admin=True)
    response = admin.get("/admin/waitlist.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["email", "name", "reason", "joined_at"]
    entry = db.session.scalar(select(ProducerWaitlist))
    assert rows[1] == ["sam@example.com", "'=HYPERLINK(1)", "'+1 more, -2 less, @me", entry.created_at.isoformat()]
    assert len(rows) == 2


def test_safe_cell_prefixes_every_formula_start():
    assert [waitlist.safe_cell(v) for v in ("=1", "+1", "-1", "@x", "plain", "a=b")] == \
        ["'=1", "'+1", "'-1", "'@x", "plain", "a=b"]


def test_weekly_counts_group_by_monday_and_fill_empty_weeks(app):
    today = datetime(2025, 3, 12, tzinfo=timezone.utc)  # a Wednesday
    moments = [today, today - timedelta(days=2), today - timedelta(days=3), today - timedelta(weeks=20)]
    for i, when in enumerate(moments):
        db.session.add(ProducerWaitlist(email=f"w{i}@example.com", name="W", reason="", created_at=when))
    db.session.commit()
    weeks = waitlist.weekly_counts(weeks=3, today=today.date())
    assert [start.isoformat() for start, _ in weeks] == ["2025-02-24", "2025-03-03", "2025-03-10"]
    assert [count for _, count in weeks] == [0, 1, 2]


def test_positions_follow_join_order_and_entries_are_newest_first(app):
    first, _, _ = waitlist.join("a@example.com", "A", "")
    second, position, created = waitlist.join("b@example.com", "B", "")
    assert (position, created) == (2, True) and waitlist.position(first) == 1
    assert [e.email for e in waitlist.entries()] == ["b@example.com", "a@example.com"]
    assert second.email == "b@example.com"
