"""Maya's words for each error code, read from ``prompts/messages.yaml``.

The file is text anyone may edit, so reading it never fails: a missing file, a missing
entry or a template that cannot be filled falls back to a plain sentence (and logs a
warning), and templates can only name details, never reach into them.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from maya.codes import ErrorCode

__all__ = ["FALLBACK_SENTENCE", "MessageBook", "load_messages"]

_log = logging.getLogger("maya.messages")

FALLBACK_SENTENCE = "Sorry, I couldn't do that just now."
"""What Maya says when no template (and no better fallback) is available."""

_FORMATTER = string.Formatter()


def _placeholders(template: str) -> tuple[str, ...] | None:
    """The names a template uses, or None if it is malformed or reaches into a value."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return None
    names: list[str] = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            return None
        names.append(field)
    return tuple(names)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class MessageBook:
    """Templates keyed by error code (or a lowercase notice name)."""

    def __init__(self, templates: Mapping[str, tuple[str, ...]], *, source: str = "") -> None:
        """Wrap already-parsed templates.

        Args:
            templates: for each key, its sentences, most specific first.
            source: where they came from, for warnings.
        """
        self._templates = {key: tuple(values) for key, values in templates.items()}
        self._source = source

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "") -> MessageBook:
        """Parse the YAML text of a messages file; unusable entries are left out.

        Never raises: a broken document yields an empty book (everything falls back).
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            _log.warning("messages file %s is not valid YAML: %s", source or "<text>", exc)
            return cls({}, source=source)
        if not isinstance(data, dict):
            _log.warning("messages file %s is not a mapping", source or "<text>")
            return cls({}, source=source)
        templates: dict[str, tuple[str, ...]] = {}
        for key, value in data.items():
            entries = [value] if isinstance(value, str) else value
            if not isinstance(entries, list):
                _log.warning("message %s in %s is neither text nor a list", key, source)
                continue
            good = tuple(e for e in entries if isinstance(e, str) and _placeholders(e) is not None)
            if len(good) != len(entries):
                _log.warning("message %s in %s has a malformed template", key, source)
            if good:
                templates[str(key)] = good
        return cls(templates, source=source)

    def has(self, key: ErrorCode | str) -> bool:
        """True if ``key`` has at least one usable template."""
        return str(key) in self._templates

    def render(
        self,
        key: ErrorCode | str,
        details: Mapping[str, Any] | None = None,
        *,
        fallback: str | None = None,
    ) -> str:
        """Maya's sentence for ``key``, filled from ``details``.

        The first template whose placeholders all have a non-empty value is used; if
        none fits, ``fallback`` (or ``FALLBACK_SENTENCE``) is returned.
        """
        values = {
            name: _text(value)
            for name, value in (details or {}).items()
            if value is not None and _text(value) != ""
        }
        for template in self._templates.get(str(key), ()):
            names = _placeholders(template) or ()
            if all(name in values for name in names):
                return template.format_map({name: values[name] for name in names})
        if str(key) in self._templates:
            _log.warning("no template for %s fits the details %s", key, sorted(values))
        return fallback or FALLBACK_SENTENCE


def _read_packaged() -> tuple[str, str]:
    resource = resources.files("maya") / "prompts" / "messages.yaml"
    return resource.read_text(encoding="utf-8"), str(resource)


def load_messages(path: Path | None = None) -> MessageBook:
    """Load the messages from ``path`` or the packaged ``prompts/messages.yaml``.

    Never raises: an unreadable file yields an empty book whose every message is the
    fallback sentence.
    """
    try:
        if path is None:
            text, source = _read_packaged()
        else:
            text, source = path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        _log.warning("cannot read messages file: %s", exc)
        return MessageBook({}, source=str(path or "messages.yaml"))
    return MessageBook.from_yaml(text, source=source)
