"""WSGI entry point for gunicorn (gevent worker, one worker per process) and for the `flask` CLI."""
from supportgroup import create_app

app = create_app()
