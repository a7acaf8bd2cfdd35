"""WSGI entry point for gunicorn (gevent worker, one worker per process) and for the `flask` CLI.

Under gunicorn each worker imports this after it forked, so each starts its own presence heartbeat
(do not use `--preload`: a greenlet started before the fork would not run in the worker). The `flask`
CLI (`db upgrade`, `seed-demo`) serves nothing and needs none.
"""
import os

from supportgroup import create_app
from supportgroup.runtime import start_serving

app = create_app()
if os.environ.get("FLASK_RUN_FROM_CLI") != "true":  # Flask sets this for every `flask` command
    start_serving(app)  # presence heartbeat, purge job, garbage-collector tuning
