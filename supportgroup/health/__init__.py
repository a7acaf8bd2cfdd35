"""Health and readiness endpoints for load balancers (`routes.py`), and the migration run at boot (`boot.py`)."""
