"""Tests through the ASGI app, real databases, SMTP servers and CLI commands."""
