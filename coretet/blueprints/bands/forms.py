"""Band forms: a name, and one recipient box that takes an email or a phone number."""
from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError
from wtforms.validators import DataRequired, Length

from coretet.blueprints.auth.forms import checked_email, checked_phone
from coretet.services.bands import NAME_MAX, BandError, clean_name


class BandNameForm(FlaskForm):
    name = StringField("Band name", validators=[DataRequired("Give the band a name."), Length(max=NAME_MAX)])

    def validate_name(self, field):
        try:
            field.data = clean_name(field.data)
        except BandError as exc:
            raise ValidationError(str(exc)) from exc


class InviteForm(FlaskForm):
    recipient = StringField("Email or mobile number",
                            validators=[DataRequired("Enter an email address or a mobile number."),
                                        Length(max=254)])
    email = None
    phone = None

    def validate_recipient(self, field):
        """Anything with an @ is an email; everything else must be a textable number."""
        value = (field.data or "").strip()
        if "@" in value:
            self.email = checked_email(value)
        elif not any(ch.isdigit() for ch in value):
            raise ValidationError("Enter an email address (with an @) or a mobile number.")
        else:
            self.phone = checked_phone(value)
