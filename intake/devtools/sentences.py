"""Finding sentences a person reads that are not marked for translation, by reading the code.

A sentence reaches the catalog (and so a translator) only when it is written inside a mark:
``N_("...")``, ``_("...")``, ``gettext("...")``, ``ngettext("...", "...")`` or
``N_plural("...", "...")``, with values as named ``%(name)s`` parameters. This module reads
the syntax trees of ``intake/`` and ``crypto/`` and reports every place where a sentence is
shown without that mark:

- a domain error (``QuietlineError``, ``crypto.TokenTypo`` and every subclass, found by their
  class statements) or a :class:`intake.i18n.Phrase` whose message is not a marked literal: an
  f-string, ``%`` or ``.format()`` on a literal, a plain literal, or a variable that cannot be
  traced to a mark;
- a response (``JSONResponse``, ``HTMLResponse``, ``PlainTextResponse``, ``Response``,
  ``error_response``) whose content holds a literal sentence or visible text built by formatting;
- a sentence passed to a template (``render``, ``TemplateResponse``) as a literal or built by
  formatting.

A message may be a marked call, a module-level constant assigned one (``SESSION_ENDED =
N_(...)``), a choice between marked values (``a if x else b``), or a look-up in a module-level
dictionary whose values are all marked. ``tests/integration/test_translatable.py`` runs
:func:`scan` and fails on any finding not in :data:`ALLOWED`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("intake", "crypto")
SKIPPED = ("intake/storage/migrations",)
MARKS = frozenset({"N_", "_", "gettext", "ngettext", "N_plural"})
ERROR_ROOTS = frozenset({"QuietlineError", "TokenTypo"})
PHRASES = frozenset({"Phrase"})
RESPONSES = frozenset({"JSONResponse", "HTMLResponse", "PlainTextResponse", "Response"})
ERROR_ANSWERS = frozenset({"error_response"})
TEMPLATES = frozenset({"render", "TemplateResponse"})

# Findings the check cannot trace to a mark, each verified by reading the code:
# (file, the message's source) -> why the sentence is marked all the same.
ALLOWED: dict[tuple[str, str], str] = {
    # A token typo re-raised with the template crypto/tokens.py marked with crypto's own N_.
    ("intake/casework/access.py", "exc.template"): "marked in crypto/tokens.py",
    ("intake/casework/filing_write.py", "exc.template"): "marked in crypto/tokens.py",
    # The name of the field, passed in by each caller as N_("...").
    ("intake/casework/deadline_settings.py", "what"): "marked by every caller of _number",
    # A sentence picked from TEXT_PROBLEMS, a table of tables whose every value is N_("...").
    ("intake/casework/records.py", "sentence"): "marked in TEXT_PROBLEMS",
    # A file's format and the reason it could not be cleaned: message ids the cleaners mark
    # with intake/attachments/cleaning/errors.py's N_, stored with the attachment.
    ("intake/attachments/prepare.py", "str(params[name])"): "marked by the cleaners",
}


@dataclass(frozen=True)
class Finding:
    """A place where a person would read a sentence that is not marked for translation."""

    path: str
    line: int
    rule: str
    source: str
    # The sentence itself, where the message is a literal (or a constant naming one).
    sentence: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.source)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.source}"


def python_files(root: Path = ROOT) -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if not relative.startswith(SKIPPED):
                yield path


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def error_classes(trees: Iterable[ast.Module]) -> frozenset[str]:
    """The names of every class that derives, directly or not, from a domain error."""
    classes = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    found = set(ERROR_ROOTS)
    grew = True
    while grew:
        grew = False
        for node in classes:
            if node.name not in found and any(_name(base) in found for base in node.bases):
                found.add(node.name)
                grew = True
    return frozenset(found)


def _is_mark(node: ast.expr) -> bool:
    """A call of a mark whose sentence arguments are plain string literals."""
    if not isinstance(node, ast.Call) or _name(node.func) not in MARKS:
        return False
    wanted = 2 if _name(node.func) in {"ngettext", "N_plural"} else 1
    sentences = node.args[:wanted]
    return len(sentences) == wanted and all(
        isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in sentences
    )


@dataclass(frozen=True)
class _Module:
    """What a module defines at its top level that can stand for a marked message."""

    marked_names: frozenset[str]
    marked_tables: frozenset[str]
    literals: dict[str, str]


def _module_facts(tree: ast.Module, shared_marked: frozenset[str]) -> _Module:
    marked: set[str] = set(shared_marked)
    tables: set[str] = set()
    literals: dict[str, str] = {}
    for statement in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        for target in targets:
            if not isinstance(target, ast.Name) or value is None:
                continue
            if _is_mark(value):
                marked.add(target.id)
            elif isinstance(value, ast.Dict) and value.values:
                if all(_is_mark(item) for item in value.values):
                    tables.add(target.id)
            elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                literals[target.id] = value.value
    return _Module(frozenset(marked), frozenset(tables), literals)


def _marked_constants(trees: Iterable[ast.Module]) -> frozenset[str]:
    """Module-level names assigned a marked message anywhere (they may be imported)."""
    names: set[str] = set()
    for tree in trees:
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and _is_mark(statement.value):
                names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
    return frozenset(names)


def _is_marked(node: ast.expr, module: _Module) -> bool:
    if _is_mark(node):
        return True
    if isinstance(node, ast.Name):
        return node.id in module.marked_names
    if isinstance(node, ast.IfExp):
        return _is_marked(node.body, module) and _is_marked(node.orelse, module)
    if isinstance(node, ast.BoolOp):
        return all(_is_marked(value, module) for value in node.values)
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Name) and node.value.id in module.marked_tables
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in module.marked_tables
    ):
        return len(node.args) < 2 or _is_marked(node.args[1], module)
    return False


_TAG = re.compile(r"<[^>]*>")


def _visible(text: str) -> bool:
    """Whether text holds words a person would read (markup and placeholders aside)."""
    return bool(re.search(r"[^\W\d_]", _TAG.sub(" ", text)))


def _is_sentence(text: str) -> bool:
    """A literal that reads as words: letters and a space, outside markup."""
    outside = _TAG.sub(" ", text).strip()
    return _visible(outside) and " " in outside


def _built_text(node: ast.expr) -> bool:
    """Visible text built by formatting: an f-string, ``%`` or ``.format()`` on a literal."""
    if isinstance(node, ast.JoinedStr):
        literal = "".join(
            part.value if isinstance(part, ast.Constant) else " {} " for part in node.values
        )
        return _visible(literal.replace("{}", ""))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return any(
            isinstance(side, ast.Constant) and isinstance(side.value, str) and _visible(side.value)
            for side in (node.left, node.right)
        )
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    ):
        return True
    return False


def _unmarked_text(node: ast.expr, module: _Module) -> Iterator[ast.expr]:
    """Literal sentences and formatted text inside ``node``, outside any mark."""
    if _is_marked(node, module):
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str) and _is_sentence(node.value):
            yield node
        return
    if _built_text(node):
        yield node
        return
    if isinstance(node, ast.Dict):
        for value in node.values:  # keys are names for programs, not sentences
            yield from _unmarked_text(value, module)
        return
    if isinstance(node, ast.Call):
        if _name(node.func) in MARKS:
            return
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            yield from _unmarked_text(argument, module)
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            yield from _unmarked_text(child, module)


def _message_argument(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in {"message", "template"}:
            return keyword.value
    return None


def _content_arguments(call: ast.Call, name: str) -> list[ast.expr]:
    if name in ERROR_ANSWERS:
        return call.args[2:3]
    if name in TEMPLATES:
        context = [keyword.value for keyword in call.keywords if keyword.arg == "context"]
        return call.args[2:3] + context
    content = [keyword.value for keyword in call.keywords if keyword.arg == "content"]
    return call.args[:1] + content


def _sentence_of(node: ast.expr, module: _Module) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return module.literals.get(node.id)
    return None


def scan_tree(
    tree: ast.Module,
    path: str,
    errors: frozenset[str],
    shared_marked: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The findings of one module's syntax tree."""
    module = _module_facts(tree, shared_marked)
    findings: list[Finding] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in errors or name in PHRASES:
            message = _message_argument(node)
            if message is not None and not _is_marked(message, module):
                rule = "error message not marked" if name in errors else "phrase not marked"
                findings.append(
                    Finding(
                        path,
                        node.lineno,
                        rule,
                        ast.unparse(message),
                        _sentence_of(message, module),
                    )
                )
        elif name in RESPONSES or name in ERROR_ANSWERS or name in TEMPLATES:
            rule = "sentence passed to a template" if name in TEMPLATES else "response text"
            for argument in _content_arguments(node, name):
                for text in _unmarked_text(argument, module):
                    findings.append(
                        Finding(
                            path,
                            text.lineno,
                            rule,
                            ast.unparse(text),
                            _sentence_of(text, module),
                        )
                    )
    return findings


def scan_source(source: str, path: str = "example.py") -> list[Finding]:
    """The findings of one module given as text (the error classes it defines count too)."""
    tree = ast.parse(source)
    return scan_tree(tree, path, error_classes([tree]), _marked_constants([tree]))


def scan(root: Path = ROOT) -> list[Finding]:
    """Every finding in the code of ``intake/`` and ``crypto/``."""
    trees = {
        path.relative_to(root).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in python_files(root)
    }
    errors = error_classes(trees.values())
    shared = _marked_constants(trees.values())
    findings: list[Finding] = []
    for path, tree in trees.items():
        findings.extend(scan_tree(tree, path, errors, shared))
    return findings


def allowed_sentences(root: Path = ROOT) -> list[Finding]:
    """Allowed findings whose sentence the catalog still collects (see :data:`ALLOWED`)."""
    return [
        finding
        for finding in scan(root)
        if finding.key in ALLOWED and finding.sentence and ALLOWED[finding.key] == "extracted"
    ]
