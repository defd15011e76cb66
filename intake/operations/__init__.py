"""Running an instance: the audit log, backup and restore, statistics, maintenance."""
