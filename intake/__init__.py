"""Quietline: anonymous whistleblower and policy-concern intake."""
