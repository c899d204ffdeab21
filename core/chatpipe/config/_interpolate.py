"""``${ENV}`` interpolation in every string of a parsed config.

Syntax, inside any string value (mapping keys are left alone):

* ``${NAME}``: the variable's value; an unset variable is an error naming the key path.
* ``${NAME:-default}``: the default when the variable is unset *or empty* (shell rules). The
  default may itself contain references (``${A:-${B:-x}}``); they are only resolved when used.
* ``$${`` is a literal ``${``. A ``$`` not followed by ``{`` is kept as is.

Strings that contained a reference come back as :class:`~._problems.EnvStr`, so their value
is never echoed in an error and numeric settings may be given through a variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._problems import EnvStr, KeyPath, Problem, Problems

__all__ = ["interpolate"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_NODES = 200_000
_SYNTAX_HINT = "use ${NAME} or ${NAME:-default}, and write $${ for a literal ${"


class _Walk:
    """One interpolation pass: the environment, the problems found, a node budget."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[Problem] = []
        self.nodes = 0
        self.active: set[int] = set()

    def value(self, value: Any, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise Problems([Problem((), f"the config is too large (more than {_MAX_NODES} values)")])
        if isinstance(value, str):
            return self.string(value, path)
        if isinstance(value, (dict, list)):
            if id(value) in self.active:
                raise Problems([Problem(path, "a YAML alias refers to itself; recursive structures are not allowed")])
            self.active.add(id(value))
            try:
                if isinstance(value, dict):
                    return {k: self.value(v, (*path, k if isinstance(k, str) else repr(k))) for k, v in value.items()}
                return [self.value(item, (*path, i)) for i, item in enumerate(value)]
            finally:
                self.active.discard(id(value))
        return value

    def string(self, text: str, path: KeyPath) -> str:
        if "$" not in text:
            return text
        try:
            result, end, used = self.parse(text, 0, path, evaluate=True, nested=False)
        except _SyntaxProblem as exc:
            self.problems.append(Problem(path, str(exc)))
            return text
        assert end == len(text)
        return EnvStr(result) if used else result

    def parse(self, text: str, pos: int, path: KeyPath, *, evaluate: bool, nested: bool) -> tuple[str, int, bool]:
        """Expand ``text`` from ``pos`` to its end, or (``nested``) to the first unescaped ``}``.

        Returns the expansion, the position after it (after the ``}`` when nested) and whether a
        reference was expanded.
        """
        out: list[str] = []
        used = False
        while pos < len(text):
            char = text[pos]
            if nested and char == "}":
                return "".join(out), pos + 1, used
            if text.startswith("$${", pos):
                out.append("${")
                pos += 3
            elif text.startswith("${", pos):
                expansion, pos = self.reference(text, pos + 2, path, evaluate=evaluate)
                out.append(expansion)
                used = True
            else:
                out.append(char)
                pos += 1
        if nested:
            raise _SyntaxProblem(f"unterminated ${{ reference (no closing }}); {_SYNTAX_HINT}")
        return "".join(out), pos, used

    def reference(self, text: str, pos: int, path: KeyPath, *, evaluate: bool) -> tuple[str, int]:
        """Expand the reference whose name starts at ``pos`` (just after ``${``)."""
        match = _NAME.match(text, pos)
        if match is None and pos >= len(text):
            raise _SyntaxProblem(f"unterminated ${{ reference at the end; {_SYNTAX_HINT}")
        if match is None:
            raise _SyntaxProblem(f"invalid ${{...}} reference at character {pos - 1}: {_SYNTAX_HINT}")
        name = match.group()
        pos = match.end()
        value = self.env.get(name) if evaluate else ""
        if text.startswith("}", pos):
            if value is None:
                self.problems.append(
                    Problem(path, f"environment variable {name} is not set; export it or remove the reference")
                )
                value = ""
            return value, pos + 1
        if text.startswith(":-", pos):
            use_default = evaluate and not value
            default, pos, _ = self.parse(text, pos + 2, path, evaluate=use_default, nested=True)
            return (default if use_default else value or ""), pos
        if pos >= len(text):
            raise _SyntaxProblem(f"unterminated ${{{name} reference (no closing }}); {_SYNTAX_HINT}")
        raise _SyntaxProblem(f"unsupported syntax in ${{{name}...}}: {_SYNTAX_HINT}")


class _SyntaxProblem(Exception):
    """A malformed ``${...}`` in one string."""


def interpolate(data: Any, env: Mapping[str, str]) -> Any:
    """A copy of ``data`` with ``${...}`` expanded in every string value, recursively.

    Raises :class:`~._problems.Problems` listing every unset variable and malformed reference
    (each with its key path), or a recursive alias / oversized document.
    """
    walk = _Walk(env)
    result = walk.value(data, ())
    if walk.problems:
        raise Problems(walk.problems)
    return result
