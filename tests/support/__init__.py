"""Helpers shared by the tests: instances, live servers, staff sign-in, cases, mail, files."""
