"""Staff pages (``/staff/``): sign-in, the queue, the case view and its forms."""

from intake.staff.routes import routes

__all__ = ["routes"]
