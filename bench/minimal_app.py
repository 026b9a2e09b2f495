"""The baseline of the recipient-page benchmark: the smallest Flask app, served by the same gunicorn settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return "ok"
