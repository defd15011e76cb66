"""Staff pages (``/staff/``): sign-in, the queue, the case view and its forms, operations."""

from intake.staff import operations
from intake.staff.routes import routes as case_routes

routes = [*case_routes, *operations.routes]

__all__ = ["routes"]
