"""Attendance: recorded from joins and leaves of the live chat; reports and charts for coordinators."""
