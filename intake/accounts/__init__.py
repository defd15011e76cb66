"""Staff accounts, staff sessions, key pairs, administration and instance set-up."""
