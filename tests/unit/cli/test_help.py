"""``quietline --help`` and every command's help read as plain text: no reStructuredText marks
(double backticks, ``:func:`` roles) leak from the code's docstrings into what an operator reads."""

from __future__ import annotations

import argparse
import re

import pytest

from intake.cli.app import build_parser

MARKUP = re.compile(r"``|:(?:func|class|mod|data|meth):`")


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(name: str, parser: argparse.ArgumentParser) -> None:
        found.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(f"{name} {sub_name}", sub)

    walk("quietline", build_parser())
    return found


@pytest.mark.parametrize(
    ("name", "parser"), [pytest.param(name, parser, id=name) for name, parser in _parsers()]
)
def test_help_reads_cleanly(name: str, parser: argparse.ArgumentParser) -> None:
    shown = parser.format_help()
    assert not MARKUP.search(shown), f"{name} --help shows markup:\n{shown}"
