"""Tests of one module or package at a time: no server, no database server, no subprocess
of the service; laid out like the packages they test."""
