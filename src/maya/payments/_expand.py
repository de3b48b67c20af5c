"""``${VAR}`` expansion for ``mcp.json`` values, as Claude Desktop, Gemini CLI and Kiro do it."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["MissingVariableError", "expand_vars"]

# ${VAR} and ${VAR:-default}; a bare $VAR is left alone (it is legal in arguments).
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariableError(KeyError):
    """A ``${VAR}`` names an unset variable and gives no default.

    Args:
        name: The variable's name.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def expand_vars(value: str, environ: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in ``value`` from ``environ``.

    Args:
        value: A string from the configuration file.
        environ: The variables to read.

    Returns:
        The expanded string.

    Raises:
        MissingVariableError: a variable is unset and has no default.
    """

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name)
        if found is not None and (found or default is None):
            return found
        if default is not None:
            return default
        raise MissingVariableError(name)

    return _VAR.sub(replace, value)
