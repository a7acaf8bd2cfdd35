"""Security headers on every response.

No inline script anywhere (the CSP forbids it), no framing, no referrer, and personal pages are
never cached: a shared device must not show them again from its cache.
"""

from __future__ import annotations

from flask import Flask, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_security_headers(app: Flask) -> None:
    from .request_limits import init_request_limits

    # Around Engine.IO too (Flask-SocketIO wrapped app.wsgi_app already): body limits, Cache-Control.
    init_request_limits(app)

    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.path.startswith("/static/"):
            # Every page may hold personal content (a name, a group, a chat): never store it.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
