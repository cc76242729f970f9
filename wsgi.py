"""WSGI entry point for gunicorn and the flask CLI."""
from grants import create_app

app = create_app()
