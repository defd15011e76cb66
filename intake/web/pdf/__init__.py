"""PDFs the service writes for people to read: the case export and the report for council."""
