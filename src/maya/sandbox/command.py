"""``maya sandbox``: serve the offline Stripe sandbox, or pay, expire or list what it made.

``_HELP`` is the command's manual (``maya sandbox --help``).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import platformdirs

from maya.addresses import add_http_transport, http_address
from maya.money import format_amount
from maya.sandbox.cards import CARD_SUCCESS
from maya.sandbox.faults import FaultConfig, FaultSpecError
from maya.sandbox.hosted import DEFAULT_ACCOUNTS, SandboxAccount, accounts_from_json
from maya.sandbox.payment import find_link
from maya.sandbox.remote import pay_url
from maya.sandbox.server import Dialect, serve_http, serve_stdio
from maya.sandbox.store import SandboxStore
from maya.sandbox.webhooks import WebhookSender, WebhookTarget

__all__ = [
    "ACCOUNTS_ENV",
    "DB_ENV",
    "configure_parser",
    "default_db_path",
    "register",
    "run_events",
    "run_expire",
    "run_pay",
    "run_serve",
]

DB_ENV = "MAYA_SANDBOX_DB"
"""Environment variable naming the sandbox's SQLite file (``--db`` wins)."""

_HELP = """\
Serve the offline Stripe sandbox, or pay one of its links.

maya sandbox [serve] [--dialect hosted|generic|named] [--db PATH] [--faults SPEC]
    serves over stdio (checkout pages on 127.0.0.1, --checkout-port N);
    with --http, or --host/--port (which imply it), serves MCP at /mcp and the
    checkout pages over HTTP (port 0: the port this --db was served on last when
    free, else any free port). --http HOST:PORT is the deprecated spelling.
maya sandbox pay URL [--card NUMBER]
    submits a link's checkout form over HTTP and exits 0 when paid, 1 when the card
    or link was refused, 2 when the page was unreachable.

With --webhook-url URL --webhook-secret whsec_... (or $MAYA_SANDBOX_WEBHOOK_URL and
$MAYA_SANDBOX_WEBHOOK_SECRET) every checkout outcome is POSTed to URL as a signed Stripe
event. "maya sandbox events" lists the events sent (newest first); "maya sandbox events
resend EVT_ID" sends one again. "maya sandbox expire URL" ends the link's open Checkout
Session (checkout.session.expired; the link stays payable).
"""

ACCOUNTS_ENV = "MAYA_SANDBOX_ACCOUNTS"
"""Environment variable with the hosted dialect's accounts as JSON
(``[{"id": "acct_...", "livemode": false, "name": "..."}]``); one test account by default."""


def default_db_path() -> str:
    """``$MAYA_SANDBOX_DB``, else ``sandbox.sqlite3`` in the user data dir for ``maya``."""
    return os.environ.get(DB_ENV) or str(
        Path(platformdirs.user_data_dir("maya")) / "sandbox.sqlite3"
    )


def _add_serve_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On the `serve` sub-action the defaults are suppressed so they do not overwrite
    # options given before the word `serve` (argparse copies sub-parser defaults over).
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    add_http_transport(
        parser,
        what="MCP (at /mcp) and the checkout pages",
        port=0,
        port_help="0: the port this --db was served on last when free, else any free port",
        default=default,
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
        help="stdio mode: port for checkout pages on 127.0.0.1 (default 0: the port this "
        "--db was served on last when free, else any free port)",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        default=default(None),
        help="fault injection, e.g. latency=0.2,hang_after=3 (see maya.sandbox.faults); "
        "added to $MAYA_SANDBOX_FAULTS",
    )
    _add_webhook_options(parser, default)


def _add_webhook_options(parser: argparse.ArgumentParser, default: Any = lambda v: v) -> None:
    parser.add_argument(
        "--webhook-url",
        metavar="URL",
        default=default(None),
        help="POST every checkout outcome here as a signed Stripe event "
        "(default $MAYA_SANDBOX_WEBHOOK_URL)",
    )
    parser.add_argument(
        "--webhook-secret",
        metavar="WHSEC",
        default=default(None),
        help="the whsec_ secret events are signed with (default $MAYA_SANDBOX_WEBHOOK_SECRET)",
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` the sandbox's options, its ``serve``/``pay`` actions and ``func``."""
    _add_serve_options(parser, suppress=False)
    parser.set_defaults(func=run_serve)
    actions = parser.add_subparsers(dest="sandbox_action", metavar="{serve,pay,expire,events}")
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
    expire = actions.add_parser(
        "expire", help="expire a link's open Checkout Session (checkout.session.expired)"
    )
    expire.add_argument("url", metavar="URL_OR_LINK", help="the payment link's URL or plink_ id")
    expire.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS, help="the sandbox's SQLite file"
    )
    _add_webhook_options(expire, lambda _value: argparse.SUPPRESS)
    expire.set_defaults(func=run_expire)
    events = actions.add_parser("events", help="list the webhook events sent, or resend one")
    events.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS, help="the sandbox's SQLite file"
    )
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    events.set_defaults(func=run_events, events_action=None)
    resend_actions = events.add_subparsers(dest="events_action", metavar="{resend}")
    resend = resend_actions.add_parser("resend", help="send one event again (same id)")
    resend.add_argument("event_id", metavar="EVT_ID")
    _add_webhook_options(resend, lambda _value: argparse.SUPPRESS)
    resend.set_defaults(func=run_events)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sandbox`` subcommand to ``maya``'s sub-parsers."""
    parser = subparsers.add_parser(
        "sandbox",
        help="offline Stripe sandbox: MCP server, checkout pages, fault injection",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)


def _accounts() -> tuple[SandboxAccount, ...]:
    """The hosted dialect's accounts: ``$MAYA_SANDBOX_ACCOUNTS``, else the default one.

    Raises:
        ValueError: the variable is not a list of accounts.
    """
    given = os.environ.get(ACCOUNTS_ENV)
    if not given:
        return DEFAULT_ACCOUNTS
    try:
        return accounts_from_json(given)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"bad {ACCOUNTS_ENV}: {exc}") from exc


def run_serve(args: argparse.Namespace) -> int:
    """Serve until stdin closes (stdio) or the process is interrupted (HTTP).

    Returns:
        0 on a clean stop, 2 for a bad option (faults, accounts, webhook, address) or an
        unusable ``--db``.
    """
    dialect: Dialect = args.dialect
    try:
        faults = FaultConfig.from_sources(args.faults)
        accounts = _accounts()
        target = WebhookTarget.from_options(args.webhook_url, args.webhook_secret)
        http = http_address(args, command="maya sandbox", port=0)
    except (FaultSpecError, ValueError) as exc:
        print(f"maya sandbox: {exc}", file=sys.stderr)
        return 2
    db = args.db or default_db_path()
    try:
        store = SandboxStore(db)
    except sqlite3.Error as exc:
        print(f"maya sandbox: cannot use {db}: {exc}", file=sys.stderr)
        return 2

    # The sandbox's spans join the caller's trace (traceparent arrives in each request's
    # _meta) and are exported as OTEL_* says; nothing is set up unless asked.
    from maya.otel import configure_tracing_from_env

    shutdown_tracing = configure_tracing_from_env("maya-sandbox")

    async def serve() -> None:
        webhooks = WebhookSender(target, store) if target is not None else None
        try:
            if http is not None:
                host, port = http
                await serve_http(
                    store,
                    dialect=dialect,
                    faults=faults,
                    host=host,
                    port=port,
                    accounts=accounts,
                    webhooks=webhooks,
                )
            else:
                await serve_stdio(
                    store,
                    dialect=dialect,
                    faults=faults,
                    checkout_port=args.checkout_port,
                    accounts=accounts,
                    webhooks=webhooks,
                )
        finally:
            if webhooks is not None:
                await webhooks.aclose()

    try:
        anyio.run(serve)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
        shutdown_tracing()
    return 0


def run_expire(args: argparse.Namespace) -> int:
    """``maya sandbox expire``: end a link's open session; report it to the webhook if set.

    Returns:
        0 expired (and delivered, when a webhook is set), 1 nothing open to expire or not
        delivered, 2 unknown link, no database or a bad webhook option.
    """
    db = args.db or default_db_path()
    if db != ":memory:" and not Path(db).is_file():
        print(f"maya sandbox expire: no sandbox database at {db}", file=sys.stderr)
        return 2
    try:
        target = WebhookTarget.from_options(
            getattr(args, "webhook_url", None), getattr(args, "webhook_secret", None)
        )
    except ValueError as exc:
        print(f"maya sandbox expire: {exc}", file=sys.stderr)
        return 2
    store = SandboxStore(db)
    try:
        link = find_link(store, args.url)
        if link is None:
            print(f"maya sandbox expire: no such payment link {args.url[:80]!r}", file=sys.stderr)
            return 2
        expired = store.expire_open_sessions(link["id"])
        if not expired:
            print(f"{link['id']}: no open Checkout Session to expire")
            return 1

        async def report() -> bool:
            if target is None:
                return True
            sender = WebhookSender(target, store)
            try:
                statuses = [
                    (await sender.emit(session, "checkout.session.expired"))[1]
                    for session in expired
                ]
            finally:
                await sender.aclose()
            return all(status is not None and 200 <= status < 300 for status in statuses)

        delivered = anyio.run(report)
        for session in expired:
            print(f"{session['id']}: expired")
        return 0 if delivered else 1
    finally:
        store.close()


def run_events(args: argparse.Namespace) -> int:
    """``maya sandbox events``: list the events sent; ``resend EVT_ID``: send one again.

    Returns:
        0 listed or delivered (2xx), 1 not delivered, 2 unknown event or no target.
    """
    db = args.db or default_db_path()
    if db != ":memory:" and not Path(db).is_file():
        # Looking creates nothing: no database means no sandbox ever ran here.
        print(f"maya sandbox events: no sandbox database at {db}", file=sys.stderr)
        return 2
    try:
        store = SandboxStore(db)
    except sqlite3.Error as exc:
        print(f"maya sandbox events: cannot use {db}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.events_action != "resend":
            events = store.list_events(limit=max(1, args.limit))
            if not events and not args.json:
                print("no events sent (is the sandbox given --webhook-url?)")
            for event in events:
                if args.json:
                    print(json.dumps(event))
                else:
                    status = event["last_status"] if event["last_status"] is not None else "-"
                    print(
                        f"{event['id']}  {event['type']:<44} created {event['created']}"
                        f"  attempts {event['attempts']}  last status {status}"
                    )
            return 0
        try:
            target = WebhookTarget.from_options(args.webhook_url, args.webhook_secret)
        except ValueError as exc:
            print(f"maya sandbox events resend: {exc}", file=sys.stderr)
            return 2
        if target is None:
            print(
                "maya sandbox events resend: no webhook URL (--webhook-url or "
                "$MAYA_SANDBOX_WEBHOOK_URL)",
                file=sys.stderr,
            )
            return 2
        if store.get_event(args.event_id) is None:
            print(f"maya sandbox events resend: no event {args.event_id[:80]!r}", file=sys.stderr)
            return 2

        async def resend() -> int | None:
            sender = WebhookSender(target, store)
            try:
                return await sender.resend(args.event_id)
            finally:
                await sender.aclose()

        status = anyio.run(resend)
        print(f"{args.event_id}: {'answered ' + str(status) if status else 'no answer'}")
        return 0 if status is not None and 200 <= status < 300 else 1
    finally:
        store.close()


def run_pay(args: argparse.Namespace) -> int:
    """Pay ``args.url`` with ``args.card`` through the checkout form.

    Returns:
        0 paid or processing (an async debit, settled a moment later), 1 refused
        (declined, invalid number, inactive or unknown link), 2 unreachable or not a
        sandbox checkout page.
    """
    try:
        result = pay_url(args.url, args.card, timeout=args.timeout)
    except httpx.ConnectError as exc:
        # The checkout pages live as long as the sandbox that made the link: a chat's
        # sandbox ends with the chat.
        print(
            f"maya sandbox pay: nothing answers at {httpx.URL(args.url).netloc.decode()}"
            f" ({exc}): is the sandbox that made this link still running? Serve its"
            " checkout pages with 'maya sandbox --http' on the same data.",
            file=sys.stderr,
        )
        return 2
    except (httpx.HTTPError, ValueError) as exc:
        print(f"maya sandbox pay: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(result.model_dump_json())
    elif result.paid and result.session is not None:
        amount = format_amount(result.session["amount_total"], result.session["currency"])
        print(f"Paid {amount} ({result.session['id']}, {result.payment_link}).")
    elif result.outcome == "processing":
        print(f"Processing ({result.payment_link}): {result.message}")
    else:
        print(f"Not paid ({result.outcome}): {result.message}")
    return 0 if result.paid or result.outcome == "processing" else 1
