"""The database: engine and transactions, tables, the SQLite driver, group commit and migrations."""
