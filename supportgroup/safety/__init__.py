"""Safety and privacy: security headers, error pages, and (later) quick exit, crisis resources, retention."""
