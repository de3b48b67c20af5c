"""Host and port on the command line, and the URL a local server is reached at.

Every server command takes ``--host``/``--port`` (``add_host_port``); ``maya mcp`` and
``maya sandbox`` also ``--http`` (``add_http_transport``, old ``--http HOST:PORT`` too).
Their time limits (and ``maya chat``'s turn budget) are read by ``parse_seconds``, and
what they say on start (the address bound, a notice) by ``announce``.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Callable
from typing import Any, TextIO

__all__ = [
    "DEFAULT_HOST",
    "add_host_port",
    "add_http_transport",
    "announce",
    "http_address",
    "http_url",
    "is_loopback_host",
    "parse_host_port",
    "parse_port",
    "parse_seconds",
]

DEFAULT_HOST = "127.0.0.1"
"""The address a server binds unless told otherwise (loopback: this machine only)."""

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def parse_host_port(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8765"`` -> ``("127.0.0.1", 8765)``; an argparse ``type=``.

    Raises:
        argparse.ArgumentTypeError: not ``HOST:PORT`` with a port of 0-65535.
    """
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def http_url(host: str, port: int, path: str = "") -> str:
    """The ``http://`` URL a client uses to reach a server bound to ``host:port``."""
    shown = _WILDCARDS.get(host.strip("[]"), host.strip("[]"))
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{path}"


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, brackets allowed) is this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def announce(stream: TextIO | None, command: str, text: str, *, stdout: bool = False) -> None:
    """Say ``command: text`` on ``stream`` and flush; None: the process's stderr (stdout
    with ``stdout=True``) as it is now, not as it was when a module was imported (a
    test's capture, a log redirect)."""
    out = stream if stream is not None else sys.stdout if stdout else sys.stderr
    out.write(f"{command}: {text}\n")
    out.flush()


def parse_port(text: str) -> int:
    """``"8000"`` -> 8000, a port of 0-65535 (0: any free port); an argparse ``type=``."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, not {text!r}")
    return int(text)


def parse_seconds(text: str) -> float:
    """``"2.5"`` -> 2.5: seconds above 0 and at most an hour (``nan`` and ``inf``
    refused); an argparse ``type=``."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"seconds above 0, at most 3600, not {text!r}")
    return value


def _as_given(value: Any) -> Any:
    return value


def add_host_port(
    parser: argparse.ArgumentParser,
    *,
    port: int,
    port_help: str,
    host: str | None = DEFAULT_HOST,
    default: Callable[[Any], Any] = _as_given,
) -> None:
    """Give ``parser`` the ``--host`` and ``--port`` every server command takes.

    ``host``/``port``: the values parsed when neither is given (None: not given, as
    ``add_http_transport`` needs); ``default`` maps each default (``argparse.SUPPRESS`` on
    a sub-action whose parent already has the options)."""
    implies = "; implies --http" if host is None else ""
    parser.add_argument(
        "--host",
        default=default(host),
        help=f"address to bind (default {DEFAULT_HOST}{implies})",
    )
    parser.add_argument(
        "--port",
        type=parse_port,
        default=default(None if host is None else port),
        help=f"port (default {port}; {port_help}{implies})",
    )


def add_http_transport(
    parser: argparse.ArgumentParser,
    *,
    what: str,
    port: int,
    port_help: str,
    default: Callable[[Any], Any] = _as_given,
) -> None:
    """``--http`` (serve ``what`` over HTTP instead of stdio) with ``--host``/``--port``,
    which imply it; ``--http HOST:PORT``, the old spelling, still parses (see
    ``http_address``)."""
    parser.add_argument(
        "--http",
        nargs="?",
        const=True,
        type=parse_host_port,
        default=default(False),
        metavar="HOST:PORT",
        help=f"serve {what} over HTTP instead of stdio, on --host and --port "
        "(HOST:PORT here is the deprecated spelling of --host HOST --port PORT)",
    )
    add_host_port(parser, port=port, port_help=port_help, host=None, default=default)


def http_address(
    args: argparse.Namespace, *, command: str, port: int, warn: TextIO | None = None
) -> tuple[str, int] | None:
    """The ``(host, port)`` to serve HTTP on, or None for stdio (no ``--http``, ``--host``
    or ``--port``). ``--http HOST:PORT`` is taken with one deprecation line on ``warn``
    (default stderr), ``command`` naming who says it.

    Raises:
        ValueError: ``--http HOST:PORT`` together with ``--host`` or ``--port``.
    """
    http, host, chosen = args.http, args.host, args.port
    if isinstance(http, tuple):
        if host is not None or chosen is not None:
            raise ValueError("give --host and --port, not --http HOST:PORT as well")
        old_host, old_port = http
        stream = warn if warn is not None else sys.stderr
        stream.write(
            f"{command}: --http HOST:PORT is deprecated; "
            f"use --http --host {old_host} --port {old_port}\n"
        )
        stream.flush()
        return old_host, old_port
    if not http and host is None and chosen is None:
        return None
    return (host or DEFAULT_HOST), (chosen if chosen is not None else port)
