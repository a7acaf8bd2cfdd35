"""Moderator actions, reports and the audit log."""
