"""The agent's subcommands: ``maya demo``, ``maya chat``, ``maya prompt``, ``maya trace``."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import anyio

from maya.addresses import parse_seconds

__all__ = ["register"]


def _demo(args: argparse.Namespace) -> int:
    from maya.agent.demo import run_demo

    return anyio.run(lambda: run_demo(sqlite=args.sqlite, quiet=args.quiet))


def _chat(args: argparse.Namespace) -> int:
    from maya.agent.chat import run_chat
    from maya.agent.chat_logging import chat_log_path, logs_to_file
    from maya.payments import REQUIRE_STRIPE_ENV

    if args.require_stripe:
        os.environ[REQUIRE_STRIPE_ENV] = "1"

    def chat(log_path: Path | None) -> int:
        return anyio.run(
            lambda: run_chat(
                session_id=args.session,
                store_url=args.store,
                offline=args.offline,
                turn_budget_s=args.turn_budget,
                log_path=log_path,
            )
        )

    if getattr(args, "verbose", 0):
        return chat(None)  # -v: logs stay on stderr
    # The screen is the conversation's: logs (and the sandbox's stderr) go to a file.
    path = args.log_file or chat_log_path()
    with ExitStack() as stack:
        try:
            opened: Path | None = stack.enter_context(logs_to_file(path))
        except OSError as exc:
            print(f"maya chat: cannot write the log file {path} ({exc}); logging to stderr")
            opened = None
        return chat(opened)


def _prompt(args: argparse.Namespace) -> int:
    from maya.agent.prompt import print_prompt

    return print_prompt(as_json=args.json)


def _trace(args: argparse.Namespace) -> int:
    from maya.agent.trace_render import show_trace

    # A trace that cannot be read (or a page that cannot be written) is a user error:
    # one line on stderr and exit status 2, as for every maya command (see maya.cli).
    code = show_trace(args.file, html_out=args.html, err=lambda line: print(line, file=sys.stderr))
    return 2 if code == 1 else code


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo``, ``chat``, ``prompt`` and ``trace`` to the ``maya`` command."""
    demo = subparsers.add_parser(
        "demo",
        help="run a scripted session end to end, offline, against the sandbox",
        description=(
            "Maya's offline model orders drinks, hits the balance limit, adds a tip, makes a "
            "payment link on the sandbox (a real subprocess), pays it at the checkout page "
            "with the 4242 test card and settles the tab. Exits 0 only if every step did "
            "what it should."
        ),
    )
    demo.add_argument(
        "--sqlite", action="store_true", help="keep the tab in a temporary SQLite file"
    )
    demo.add_argument("--quiet", action="store_true", help="print only failures and the verdict")
    demo.set_defaults(func=_demo)

    chat = subparsers.add_parser(
        "chat",
        help="chat with Maya in the terminal (Gemini with a key, offline otherwise)",
        description="Type to Maya; 'quit' or end of input (Ctrl-D) leaves.",
    )
    chat.add_argument(
        "--session",
        default="terminal",
        metavar="ID",
        help="tab to open or resume (default: terminal)",
    )
    chat.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="state store: memory://, a SQLite path or postgresql://... (default: $MAYA_STATE_URL "
        "or SQLite in the user data dir)",
    )
    chat.add_argument(
        "--offline", action="store_true", help="use the offline model even when a key is set"
    )
    chat.add_argument(
        "--turn-budget",
        type=parse_seconds,
        default=None,
        metavar="SECONDS",
        help="the most one message may take, retries included (default: $MAYA_TURN_BUDGET_S or 30)",
    )
    chat.add_argument(
        "--log-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="where logs go (default: $MAYA_CHAT_LOG or chat.log in the user log folder); "
        "'maya -v chat' logs to stderr instead",
    )
    chat.add_argument(
        "--require-stripe",
        action="store_true",
        help="refuse to start without a real Stripe MCP server (as MAYA_REQUIRE_STRIPE=1)",
    )
    chat.set_defaults(func=_chat)

    prompt = subparsers.add_parser(
        "prompt",
        help="show exactly what the model is sent: instruction, declarations, hash, size",
    )
    prompt.add_argument("--json", action="store_true", help="print it as JSON")
    prompt.set_defaults(func=_prompt)

    trace = subparsers.add_parser("trace", help="show a trace file turn by turn, or as HTML")
    trace.add_argument("file", type=Path, metavar="FILE", help="a .jsonl trace")
    trace.add_argument(
        "--html", type=Path, default=None, metavar="OUT", help="write one self-contained page"
    )
    trace.set_defaults(func=_trace)
