"""The share dialog's form: recipient rows (phone, optional name) and an expiry choice."""
import re

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, RadioField, StringField, TelField, ValidationError
from wtforms.validators import Length

from coretet.blueprints.auth.forms import checked_phone
from coretet.services import tiers

NEVER = "never"
_PHONE_KEY = re.compile(r"recipients-\d+-phone")
LABEL_MAX = 80


def expiry_value(days):
    """The radio value for an expiry choice (None = never)."""
    return NEVER if days is None else str(days)


def expiry_days(value):
    """The expiry choice back as days, None for never."""
    return None if value == NEVER else int(value)


class RecipientForm(Form):
    """One row of the dialog; a row left completely empty is skipped."""

    phone = TelField("Mobile number")
    display_name = StringField("Name (optional)", validators=[Length(max=LABEL_MAX, message=f"Names can be up to {LABEL_MAX} characters.")])
    parsed = None

    @property
    def is_blank(self):
        return not (self.phone.data or "").strip() and not (self.display_name.data or "").strip()

    def validate_phone(self, field):
        if self.is_blank:
            return
        self.parsed = checked_phone(field.data)

    def validate_display_name(self, field):
        field.data = " ".join((field.data or "").split()) or None
        if field.data and any(not ch.isprintable() for ch in field.data):
            raise ValidationError("Use letters, numbers and punctuation only.")


class ShareForm(FlaskForm):
    recipients = FieldList(FormField(RecipientForm), min_entries=1)
    expiry = RadioField("Access lasts")

    def __init__(self, *args, tier_key, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = tiers.expiry_options(tier_key)
        self.expiry.choices = [(expiry_value(days), label) for days, label, _ in self.options]
        if not self.expiry.data or self.expiry.data == "None":
            allowed = [days for days, _, ok in self.options if ok and days is not None and days <= 30]
            self.expiry.data = expiry_value(max(allowed) if allowed else self.options[0][0])

    def expiry_choices(self):
        """(value, label, allowed) per expiry choice, for radios that show the locked ones disabled."""
        return [(expiry_value(days), label, allowed) for days, label, allowed in self.options]

    def rows(self):
        """(index, row) pairs; the index is the one in the field names, so checks find their row."""
        return [(int(entry.short_name.rsplit("-", 1)[-1]), entry) for entry in self.recipients]

    @property
    def next_index(self):
        return max(index for index, _ in self.rows()) + 1

    def filled(self):
        """The rows with something typed in them."""
        return [entry.form for entry in self.recipients if not entry.form.is_blank]

    def validate_recipients(self, field):
        rows = self.filled()
        if not rows:
            first = self.recipients[0].form.phone
            first.errors = list(first.errors) + ["Add at least one mobile number."]
            raise ValidationError("Add at least one mobile number.")
        seen, repeated = set(), False
        for row in rows:
            if row.parsed is None:
                continue
            if row.parsed.e164 in seen:
                row.phone.errors = list(row.phone.errors) + [duplicate_message(row.parsed)]
                repeated = True
            seen.add(row.parsed.e164)
        if repeated:
            raise ValidationError("The same number appears more than once.")

    def recipients_data(self):
        """(e164, label) for each filled row, ready for sharing.create_share."""
        return [(row.parsed.e164, row.display_name.data) for row in self.filled()]

    @property
    def expiry_days(self):
        return expiry_days(self.expiry.data)


def duplicate_message(parsed):
    return f"You've already added {parsed.international}."


def check_row(formdata, index):
    """One posted row's phone, checked alone and against the other rows: (field, parsed or None)."""
    name = f"recipients-{index}-phone"
    if name not in formdata:
        return None, None
    row = RecipientForm(formdata, prefix=f"recipients-{index}")
    field = row.phone
    try:
        parsed = checked_phone(field.data)
    except ValidationError as exc:
        field.errors = [str(exc)]
        return field, None
    others = [value for key, value in formdata.items(multi=True)
              if key != name and _PHONE_KEY.fullmatch(key) and value.strip()]
    for value in others:
        try:
            if checked_phone(value).e164 == parsed.e164:
                field.errors = [duplicate_message(parsed)]
                return field, None
        except ValidationError:
            continue
    field.errors = []
    return field, parsed


def recipient_count(form):
    """How many texts the rows would send: each textable number once."""
    numbers = set()
    for entry in form.recipients:
        try:
            numbers.add(checked_phone(entry.form.phone.data).e164)
        except ValidationError:
            continue
    return len(numbers)
