"""The ``quietline`` command, one module per command group.

:mod:`intake.cli.app` assembles the parser and holds ``main``; :mod:`intake.cli.command` is
what the groups share. This package imports nothing on its own, so any of its modules
imports alone.
"""
