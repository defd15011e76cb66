"""Developer commands: message catalogs and migrations."""
