"""Playlist forms; the length limits come from services.playlists so form and service agree."""
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, ValidationError
from wtforms.validators import Length

from coretet.services.playlists import DESCRIPTION_MAX, TITLE_MAX


class PlaylistForm(FlaskForm):
    title = StringField("Title")
    description = TextAreaField("Description (optional)")

    def validate_title(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Give the playlist a title.")
        Length(max=TITLE_MAX, message=f"Titles can be up to {TITLE_MAX} characters.")(self, field)

    def validate_description(self, field):
        field.data = (field.data or "").strip()
        Length(max=DESCRIPTION_MAX, message=f"Descriptions can be up to {DESCRIPTION_MAX} characters.")(self, field)
