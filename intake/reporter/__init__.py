"""Reporter pages: plain HTML forms that work without JavaScript."""

from intake.reporter.routes import routes

__all__ = ["routes"]
