"""Meetings: one-off and recurring, their lifecycle, calendars."""
