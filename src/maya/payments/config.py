"""Reading Stripe's MCP server from ``mcp.json`` (the ``mcpServers`` format).

Lookup: ``config_path``, ``$MAYA_MCP_CONFIG``, ``./mcp.json``, ``./.kiro/settings/mcp.json``;
no enabled ``stripe`` server means the offline sandbox. Also ``${VAR}`` expansion and mode.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from maya.payments.errors import LiveModeRefusedError, McpConfigError
from maya.payments.results import StripeMode
from maya.redact import redact

__all__ = [
    "ALLOW_LIVE_ENV",
    "CONFIG_ENV",
    "CONFIG_SEARCH_PATHS",
    "DEFAULT_SERVER_NAME",
    "SERVER_ENV",
    "McpServerConfig",
    "McpTransportKind",
    "MissingVariableError",
    "allow_live_from_env",
    "detect_mode",
    "ensure_mode_allowed",
    "expand_vars",
    "find_config_file",
    "is_loopback_url",
    "load_server_config",
    "sandbox_server_config",
]

CONFIG_ENV = "MAYA_MCP_CONFIG"
"""Environment variable naming the ``mcp.json`` to read."""

SERVER_ENV = "MAYA_MCP_SERVER"
"""Environment variable naming the server entry to use (default ``stripe``)."""

DEFAULT_SERVER_NAME = "stripe"
"""The ``mcpServers`` entry used when none is named."""

CONFIG_SEARCH_PATHS = (Path("mcp.json"), Path(".kiro") / "settings" / "mcp.json")
"""Where ``mcp.json`` is looked for, relative to the working directory, in order."""

SANDBOX_SERVER_NAME = "sandbox"

McpTransportKind = Literal["stdio", "http"]
"""How Maya talks to the server: a spawned process, or streamable HTTP."""

_log = logging.getLogger("maya.payments")

# Variables the spawned sandbox needs from Maya's environment (stdio servers only get a
# minimal environment otherwise).
_SANDBOX_ENV_PREFIX = "MAYA_SANDBOX_"


# -- ``${VAR}`` expansion for ``mcp.json`` values, as Claude Desktop, Gemini CLI and Kiro do it ---

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


# -- Telling test mode from live mode, and refusing live mode unless it was asked for ---

ALLOW_LIVE_ENV = "MAYA_ALLOW_LIVE"
"""Set to ``1`` to let Maya use a live-mode Stripe key."""

_KEY = re.compile(r"\b(?:sk|rk)_(test|live)_[A-Za-z0-9]+")
_TRUE = {"1", "true", "yes", "on"}


def allow_live_from_env(environ: Mapping[str, str]) -> bool:
    """Whether ``MAYA_ALLOW_LIVE`` enables live mode in ``environ``."""
    return environ.get(ALLOW_LIVE_ENV, "").strip().lower() in _TRUE


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (where only the sandbox is expected)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")


def detect_mode(
    values: Iterable[str], *, fallback_key: str | None = None, local: bool = False
) -> StripeMode:
    """Decide test or live from the Stripe keys found in a server's configuration.

    Any live key makes it live. With no key in ``values``, a local server (the sandbox)
    is test mode; otherwise ``fallback_key`` (the ``STRIPE_SECRET_KEY`` variable)
    decides. With no key at all a remote server counts as live: without a test key
    there is no proof real money is out of reach.

    Args:
        values: Arguments, environment values and header values, already expanded.
        fallback_key: ``STRIPE_SECRET_KEY``, if set.
        local: The server is the sandbox or listens on a loopback address.

    Returns:
        ``"test"`` or ``"live"``.
    """
    modes = {match.group(1) for value in values for match in _KEY.finditer(value)}
    if not modes and local:
        return "test"
    if not modes and fallback_key:
        modes = {match.group(1) for match in _KEY.finditer(fallback_key)}
    return "test" if modes == {"test"} else "live"


def ensure_mode_allowed(mode: StripeMode, *, allow_live: bool, server: str) -> None:
    """Refuse live mode unless it was enabled explicitly.

    Args:
        mode: The configured server's mode.
        allow_live: Whether live mode was enabled (``MAYA_ALLOW_LIVE=1``).
        server: The server's name, for the message.

    Raises:
        LiveModeRefusedError: ``mode`` is live and ``allow_live`` is False.
    """
    if mode == "live" and not allow_live:
        raise LiveModeRefusedError(
            "the configured Stripe server uses a live-mode key (or no test key was found); "
            f"set {ALLOW_LIVE_ENV}=1 to take real payments",
            server=server,
        )


class McpServerConfig(BaseModel):
    """One MCP server, with every ``${VAR}`` expanded and secrets hidden from ``repr``.

    Attributes:
        name: The entry's name in ``mcpServers``.
        transport: ``stdio`` (``command``) or ``http`` (``url``).
        command: Executable to spawn (stdio).
        args: Its arguments; secret because they may carry the API key (``repr``
            shows them with keys masked; ``arg_values()`` reveals them).
        env: Extra environment for the process; values are secret.
        cwd: Working directory for the process.
        url: Streamable-HTTP endpoint (http).
        headers: HTTP headers; values are secret (``Authorization: Bearer ...``).
        disabled: The entry is switched off.
        auto_approve: Tools the user allowed without confirmation (``autoApprove``).
        mode: ``test`` or ``live``, from the key found in the entry.
        source: The file the entry came from; None for the built-in sandbox.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    transport: McpTransportKind
    command: str | None = None
    args: tuple[SecretStr, ...] = ()
    env: Mapping[str, SecretStr] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, SecretStr] = Field(default_factory=dict)
    disabled: bool = False
    auto_approve: tuple[str, ...] = ()
    mode: StripeMode = "test"
    source: Path | None = None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "args":
                # Harmless arguments stay readable; keys inside them are masked.
                yield name, [redact(arg) for arg in self.arg_values()]
            else:
                yield name, value

    def __repr__(self) -> str:
        return redact(super().__repr__())

    def __str__(self) -> str:
        return redact(super().__str__())

    @property
    def is_sandbox(self) -> bool:
        """Whether this runs Maya's offline sandbox."""
        return _runs_sandbox(self.command, self.arg_values())

    @property
    def is_local(self) -> bool:
        """Whether this runs the sandbox or reaches a server on this machine."""
        return self.is_sandbox or (self.url is not None and is_loopback_url(self.url))

    def arg_values(self) -> tuple[str, ...]:
        """The process arguments with secrets revealed, for spawning only."""
        return tuple(arg.get_secret_value() for arg in self.args)

    def env_values(self) -> dict[str, str]:
        """The process environment with secrets revealed, for spawning only."""
        return {key: value.get_secret_value() for key, value in self.env.items()}

    def header_values(self) -> dict[str, str]:
        """The HTTP headers with secrets revealed, for connecting only."""
        return {key: value.get_secret_value() for key, value in self.headers.items()}


class _RawServer(BaseModel):
    """An ``mcpServers`` entry as written; unknown fields (``timeout``, ``trust``) ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: str | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    http_url: str | None = Field(default=None, alias="httpUrl")
    headers: dict[str, str] = Field(default_factory=dict)
    disabled: bool = False
    auto_approve: list[str] = Field(default_factory=list, alias="autoApprove")


class _RawFile(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    mcp_servers: dict[str, _RawServer] = Field(alias="mcpServers")


def find_config_file(
    *,
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path | None:
    """The ``mcp.json`` to read, following the lookup order.

    Args:
        config_path: An explicit file; it must exist.
        environ: Variables to read ``MAYA_MCP_CONFIG`` from (default ``os.environ``).
        cwd: Directory the default paths are relative to (default: the working directory).

    Returns:
        The file, or None when no configuration exists.

    Raises:
        McpConfigError: an explicitly named file does not exist.
    """
    env = os.environ if environ is None else environ
    base = Path.cwd() if cwd is None else cwd
    explicit = config_path if config_path is not None else env.get(CONFIG_ENV) or None
    if explicit is not None:
        path = Path(explicit)
        if not path.is_absolute():
            path = base / path
        if not path.is_file():
            origin = "config_path" if config_path is not None else CONFIG_ENV
            raise McpConfigError(f"file named by {origin} does not exist", path=path)
        return path
    for candidate in CONFIG_SEARCH_PATHS:
        path = base / candidate
        if path.is_file():
            return path
    return None


def sandbox_server_config(
    *, environ: Mapping[str, str] | None = None, args: tuple[str, ...] = ()
) -> McpServerConfig:
    """The built-in default: ``python -m maya.sandbox`` over stdio, in test mode.

    Args:
        environ: Variables to pass ``MAYA_SANDBOX_*`` settings (and ``OTEL_*``, so the
            sandbox's spans are exported where the caller's go) on from.
        args: Extra sandbox arguments, e.g. ``("--dialect", "named")``.
    """
    env = os.environ if environ is None else environ
    passed = {
        k: SecretStr(v) for k, v in env.items() if k.startswith((_SANDBOX_ENV_PREFIX, "OTEL_"))
    }
    return McpServerConfig(
        name=SANDBOX_SERVER_NAME,
        transport="stdio",
        command=sys.executable,
        args=tuple(SecretStr(arg) for arg in ("-m", "maya.sandbox", *args)),
        env=passed,
        mode="test",
    )


def load_server_config(
    *,
    config_path: str | os.PathLike[str] | None = None,
    server_name: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> McpServerConfig:
    """Find, read and expand the Stripe server's configuration.

    Args:
        config_path: An explicit ``mcp.json``; otherwise the lookup order applies.
        server_name: The entry to use; default ``$MAYA_MCP_SERVER`` or ``stripe``.
        environ: Variables for lookup and ``${VAR}`` expansion (default ``os.environ``).
        cwd: Directory for the relative lookup paths.

    Returns:
        The server to connect to; the sandbox when nothing is configured.

    Raises:
        McpConfigError: the file is unreadable or malformed, a field has the wrong
            type, a ``${VAR}`` is unset, or an explicitly named server is missing or
            disabled. The message names the file and the field.
    """
    env = os.environ if environ is None else environ
    path = find_config_file(config_path=config_path, environ=env, cwd=cwd)
    explicit_name = server_name or env.get(SERVER_ENV) or None
    name = explicit_name or DEFAULT_SERVER_NAME
    if path is None:
        if explicit_name is not None:
            raise McpConfigError(f"server {name!r} is named but no mcp.json was found")
        return sandbox_server_config(environ=env)
    servers = _read_file(path)
    raw = servers.get(name)
    if raw is None or raw.disabled:
        state = "is disabled" if raw is not None else "is not defined"
        if explicit_name is not None:
            raise McpConfigError(f"server {name!r} {state}", path=path, field=f"mcpServers.{name}")
        _log.warning(
            "mcp config %s: server %r %s; using the offline sandbox (test mode)", path, name, state
        )
        return sandbox_server_config(environ=env)
    return _resolve(raw, name=name, path=path, environ=env)


def _read_file(path: Path) -> dict[str, _RawServer]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise McpConfigError(f"cannot read file: {exc.strerror or exc}", path=path) from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise McpConfigError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", path=path
        ) from exc
    if not isinstance(data, dict) or "mcpServers" not in data:
        raise McpConfigError(
            "expected an object with an mcpServers object", path=path, field="mcpServers"
        )
    try:
        return _RawFile.model_validate(data).mcp_servers
    except ValidationError as exc:
        error = exc.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"])
        # Not chained: pydantic's own text quotes the input (a key given as a list).
        raise McpConfigError(error["msg"], path=path, field=field) from None


def _resolve(
    raw: _RawServer, *, name: str, path: Path, environ: Mapping[str, str]
) -> McpServerConfig:
    prefix = f"mcpServers.{name}"

    def expand(value: str, field: str) -> str:
        try:
            return expand_vars(value, environ)
        except MissingVariableError as exc:
            raise McpConfigError(
                f"${{{exc.name}}} is not set", path=path, field=f"{prefix}.{field}"
            ) from None

    url = raw.url or raw.http_url
    kind = (raw.type or "").lower()
    if kind == "sse":
        raise McpConfigError(
            "SSE servers are not supported; use streamable HTTP", path=path, field=f"{prefix}.type"
        )
    if kind and kind not in {"stdio", "http", "streamable-http", "streamablehttp"}:
        raise McpConfigError(
            f"unknown transport type {raw.type!r}", path=path, field=f"{prefix}.type"
        )
    if (raw.command is None) == (url is None):
        raise McpConfigError(
            "give exactly one of command (stdio) or url (streamable HTTP)", path=path, field=prefix
        )
    args = tuple(expand(arg, f"args.{i}") for i, arg in enumerate(raw.args))
    env = {key: expand(value, f"env.{key}") for key, value in raw.env.items()}
    headers = {key: expand(value, f"headers.{key}") for key, value in raw.headers.items()}
    command = expand(raw.command, "command") if raw.command is not None else None
    expanded_url = expand(url, "url") if url is not None else None
    local = _runs_sandbox(command, args) or (
        expanded_url is not None and is_loopback_url(expanded_url)
    )
    mode = detect_mode(
        [*args, *env.values(), *headers.values()],
        fallback_key=environ.get("STRIPE_SECRET_KEY"),
        local=local,
    )
    return McpServerConfig(
        name=name,
        transport="stdio" if command is not None else "http",
        command=command,
        args=tuple(SecretStr(arg) for arg in args),
        env={key: SecretStr(value) for key, value in env.items()},
        cwd=expand(raw.cwd, "cwd") if raw.cwd is not None else None,
        url=expanded_url,
        headers={key: SecretStr(value) for key, value in headers.items()},
        disabled=raw.disabled,
        auto_approve=tuple(raw.auto_approve),
        mode=mode,
        source=path,
    )


def _runs_sandbox(command: str | None, args: tuple[str, ...]) -> bool:
    if command is None:
        return False
    joined = " ".join(args)
    if "maya.sandbox" in joined:
        return True
    return Path(command).name == "maya" and bool(args) and args[0] == "sandbox"
