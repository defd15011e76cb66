"""Administration pages (``/admin/``): staff accounts, categories, groups, deadlines."""
