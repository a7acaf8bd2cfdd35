"""The admin console (`/admin`): accounts, platform settings, the audit log.

Its pages live in several route modules that each import `blueprint.py` and none of each other;
importing `routes` registers them all (as in `groups/`).
"""
