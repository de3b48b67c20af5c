"""Host and port on the command line, and the URL a local server is reached at.

``maya sandbox --http``, ``maya mcp --http`` and ``maya serve`` all take a ``HOST:PORT``
and announce where they listen; a wildcard bind is reached through loopback.
"""

from __future__ import annotations

import argparse
import ipaddress

__all__ = ["http_url", "is_loopback_host", "parse_host_port"]

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
