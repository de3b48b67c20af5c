"""``maya sandbox``: serve the offline Stripe sandbox, or pay one of its links.

``maya sandbox [serve] [--http HOST:PORT] [--dialect hosted|generic|named] [--db PATH]
[--checkout-port N] [--faults SPEC]`` serves over stdio unless ``--http`` is given.
``maya sandbox pay URL [--card NUMBER]`` submits a link's checkout form over HTTP and
exits 0 when paid, 1 when the card or link was refused, 2 when the page was unreachable.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import platformdirs

from maya.sandbox.cards import CARD_SUCCESS
from maya.sandbox.checkout import format_amount
from maya.sandbox.faults import FaultConfig, FaultSpecError
from maya.sandbox.hosted import DEFAULT_ACCOUNTS, accounts_from_json
from maya.sandbox.remote import pay_url
from maya.sandbox.server import Dialect, serve_http, serve_stdio
from maya.sandbox.store import SandboxStore

__all__ = [
    "ACCOUNTS_ENV",
    "DB_ENV",
    "configure_parser",
    "default_db_path",
    "register",
    "run_pay",
    "run_serve",
]

DB_ENV = "MAYA_SANDBOX_DB"
"""Environment variable naming the sandbox's SQLite file (``--db`` wins)."""

ACCOUNTS_ENV = "MAYA_SANDBOX_ACCOUNTS"
"""Environment variable with the hosted dialect's accounts as JSON
(``[{"id": "acct_...", "livemode": false, "name": "..."}]``); one test account by default."""


def default_db_path() -> str:
    """``$MAYA_SANDBOX_DB``, else ``sandbox.sqlite3`` in the user data dir for ``maya``."""
    return os.environ.get(DB_ENV) or str(
        Path(platformdirs.user_data_dir("maya")) / "sandbox.sqlite3"
    )


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _add_serve_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On the `serve` sub-action the defaults are suppressed so they do not overwrite
    # options given before the word `serve` (argparse copies sub-parser defaults over).
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        type=_host_port,
        default=default(None),
        help="serve MCP (at /mcp) and checkout pages over HTTP instead of stdio",
    )
    parser.add_argument(
        "--dialect",
        choices=["hosted", "generic", "named"],
        default=default("hosted"),
        help="Stripe tool set: today's hosted surface (default: stripe_api_read/write with "
        "stripe_context/livemode), the older generic one without context, or the named tools",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=default(None),
        help=f"SQLite file (':memory:' for none); default ${DB_ENV} or the user data dir",
    )
    parser.add_argument(
        "--checkout-port",
        type=int,
        default=default(0),
        metavar="PORT",
        help="stdio mode: port for checkout pages on 127.0.0.1 (default 0: any free port)",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        default=default(None),
        help="fault injection, e.g. latency=0.2,hang_after=3 (see maya.sandbox.faults); "
        "added to $MAYA_SANDBOX_FAULTS",
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` the sandbox's options, its ``serve``/``pay`` actions and ``func``."""
    _add_serve_options(parser, suppress=False)
    parser.set_defaults(func=run_serve)
    actions = parser.add_subparsers(dest="sandbox_action", metavar="{serve,pay}")
    serve = actions.add_parser("serve", help="serve the sandbox (the default)")
    _add_serve_options(serve, suppress=True)
    serve.set_defaults(func=run_serve)
    pay = actions.add_parser("pay", help="pay a sandbox payment link with a test card")
    pay.add_argument("url", metavar="URL", help="the payment link URL")
    pay.add_argument(
        "--card", default=CARD_SUCCESS, help=f"card number (default {CARD_SUCCESS}: pays)"
    )
    pay.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (default 10)")
    pay.add_argument("--json", action="store_true", help="print the checkout result as JSON")
    pay.set_defaults(func=run_pay)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sandbox`` subcommand to ``maya``'s sub-parsers."""
    parser = subparsers.add_parser(
        "sandbox",
        help="offline Stripe sandbox: MCP server, checkout pages, fault injection",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until stdin closes (stdio) or the process is interrupted (HTTP).

    Returns:
        0 on a clean stop, 2 for a bad fault spec or an unusable ``--db``.
    """
    try:
        faults = FaultConfig.from_sources(args.faults)
    except FaultSpecError as exc:
        print(f"maya sandbox: {exc}", file=sys.stderr)
        return 2
    dialect: Dialect = args.dialect
    accounts = DEFAULT_ACCOUNTS
    if os.environ.get(ACCOUNTS_ENV):
        try:
            accounts = accounts_from_json(os.environ[ACCOUNTS_ENV])
        except (ValueError, KeyError, TypeError) as exc:
            print(f"maya sandbox: bad {ACCOUNTS_ENV}: {exc}", file=sys.stderr)
            return 2
    db = args.db or default_db_path()
    try:
        store = SandboxStore(db)
    except sqlite3.Error as exc:
        print(f"maya sandbox: cannot use {db}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.http is not None:
            host, port = args.http
            anyio.run(
                lambda: serve_http(
                    store, dialect=dialect, faults=faults, host=host, port=port, accounts=accounts
                )
            )
        else:
            anyio.run(
                lambda: serve_stdio(
                    store,
                    dialect=dialect,
                    faults=faults,
                    checkout_port=args.checkout_port,
                    accounts=accounts,
                )
            )
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


def run_pay(args: argparse.Namespace) -> int:
    """Pay ``args.url`` with ``args.card`` through the checkout form.

    Returns:
        0 paid, 1 refused (declined, invalid number, inactive or unknown link),
        2 unreachable or not a sandbox checkout page.
    """
    try:
        result = pay_url(args.url, args.card, timeout=args.timeout)
    except (httpx.HTTPError, ValueError) as exc:
        print(f"maya sandbox pay: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(result.model_dump_json())
    elif result.paid and result.session is not None:
        amount = format_amount(result.session["amount_total"], result.session["currency"])
        print(f"Paid {amount} ({result.session['id']}, {result.payment_link}).")
    else:
        print(f"Not paid ({result.outcome}): {result.message}")
    return 0 if result.paid else 1
