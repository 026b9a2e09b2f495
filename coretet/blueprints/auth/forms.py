"""Account forms. Field rules live in validate_<field> so inline checks and submits agree."""
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField, ValidationError
from wtforms.validators import DataRequired, Length

from coretet.services import accounts
from coretet.services.keys import keys_from_config
from coretet.services.passwords import password_problem
from coretet.services.phone import PhoneError, parse_phone


def checked_email(value):
    """Normalised address, or ValidationError with the reason."""
    try:
        return validate_email((value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(str(exc)) from exc


def checked_name(field):
    """Names appear to bandmates and in texts: printable characters only."""
    field.data = " ".join((field.data or "").split())
    if not field.data:
        raise ValidationError("Tell us what to call you.")
    if any(not ch.isprintable() for ch in field.data):
        raise ValidationError("Use letters, numbers and punctuation only.")


def checked_phone(value):
    """Parsed phone within the allowed countries, or ValidationError saying why."""
    try:
        return parse_phone(
            value or "",
            default_region=current_app.config["PHONE_DEFAULT_REGION"],
            allowed_countries=current_app.config["SMS_ALLOWED_COUNTRIES"],
        )
    except PhoneError as exc:
        raise ValidationError(str(exc)) from exc


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=256)])
    remember = BooleanField("Keep me signed in on this device")


class SignupForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Tell us what to call you."), Length(max=80)])
    email = EmailField("Email", validators=[DataRequired("Enter your email.")])
    password = PasswordField("Password", validators=[DataRequired("Choose a password.")])
    phone = TelField("Mobile phone", validators=[DataRequired("Enter your mobile number.")])

    def validate_name(self, field):
        checked_name(field)

    def validate_email(self, field):
        field.data = checked_email(field.data)
        if accounts.email_taken(field.data):
            raise ValidationError("An account with this email already exists. Sign in instead?")

    def validate_password(self, field):
        problem = password_problem(field.data, [self.email.data, self.name.data])
        if problem:
            raise ValidationError(problem)

    def validate_phone(self, field):
        parsed = checked_phone(field.data)
        if accounts.phone_taken(parsed.e164, keys_from_config(current_app.config)):
            raise ValidationError("This number already belongs to an account.")
        self.parsed_phone = parsed


class PhoneForm(FlaskForm):
    phone = TelField("Mobile phone", validators=[DataRequired("Enter your mobile number.")])

    def __init__(self, *args, profile=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile

    def validate_phone(self, field):
        parsed = checked_phone(field.data)
        if accounts.phone_taken(parsed.e164, keys_from_config(current_app.config), except_profile=self.profile):
            raise ValidationError("This number already belongs to another account.")
        self.parsed_phone = parsed


class CodeForm(FlaskForm):
    code = StringField("6-digit code", validators=[DataRequired("Enter the code we texted you."), Length(max=32)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Choose a password.")])

    def __init__(self, *args, user_inputs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_inputs = user_inputs

    def validate_password(self, field):
        problem = password_problem(field.data, self.user_inputs)
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])


class NameForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Tell us what to call you."), Length(max=80)])

    def validate_name(self, field):
        checked_name(field)


class EmailChangeForm(FlaskForm):
    email = EmailField("New email", validators=[DataRequired("Enter the new email.")])

    def validate_email(self, field):
        field.data = checked_email(field.data)
        if accounts.email_taken(field.data):
            raise ValidationError("An account with this email already exists.")
