"""Administration pages (``/admin/``): staff accounts, categories, groups, deadlines."""

from intake.admin.routes import routes

__all__ = ["routes"]
