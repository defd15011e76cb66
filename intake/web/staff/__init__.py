"""Staff pages (``/staff/``): sign-in, the queue, the case view and its forms, operations."""
