"""Entry point for `flask` and gunicorn (`gunicorn app:app`)."""
from coretet import create_app

app = create_app()
