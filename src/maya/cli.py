"""The ``maya`` command: each package registers its own subcommands here.

A user error is one redacted line on stderr (``maya <command>: <what is wrong>``, exit 2;
its traceback only with ``-vv``); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["USER_ERROR_EXIT", "build_parser", "main", "user_error_types"]

USER_ERROR_EXIT = 2
"""The exit status of a command refused for bad input (as argparse's own)."""

# Each module exposes ``register(subparsers)``; imported here so ``maya --help`` lists all.
_COMMAND_MODULES = (
    "maya.agent.commands",  # demo, chat, prompt, trace
    "maya.otel.command",  # trace --otlp-json (after the agent's trace)
    "maya.sandbox.command",  # sandbox
    "maya.state.command",  # state
    "maya.mcp_server.command",  # mcp
    "maya.adk.command",  # conversations export-adk
    "maya.server.command",  # serve
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="maya",
        description="Maya, the bartender agent: Stripe payments over MCP for Gemini agents.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    _verbose_anywhere(parser)
    return parser


def _verbose_anywhere(parser: argparse.ArgumentParser) -> None:
    """``-v`` after the command too (``maya chat -v``, ``maya state show -v ID``): every
    subcommand counts it into ``verbose_after``, added to the ``maya -v`` count."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                sub.add_argument(
                    "-v",
                    "--verbose",
                    action="count",
                    default=0,
                    dest="verbose_after",
                    help="log more (-vv for debug), as maya -v",
                )
                _verbose_anywhere(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``maya``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.verbose += getattr(args, "verbose_after", 0)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(
        level=os.environ.get("MAYA_LOG_LEVEL", logging.getLevelName(level)),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    from maya.redact import redact_log_handlers

    redact_log_handlers()
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `maya trace FILE | head` closed our stdout: not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        from maya.redact import redacted_traceback

        user_error = _find_user_error(exc, user_error_types())
        if user_error is None:
            # A bug: its traceback, redacted, and the exit status Python gives one.
            sys.stderr.write(redacted_traceback(exc))
            return 1
        if args.verbose >= 2:
            sys.stderr.write(redacted_traceback(exc))
        print(f"{_command_name(args)}: {describe_user_error(user_error)}", file=sys.stderr)
        return USER_ERROR_EXIT


def user_error_types() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the input was wrong", not "Maya has a bug".

    Imported here, when an error is being answered, so ``maya --help`` stays light.
    """
    from maya.bar import MenuError
    from maya.errors import MayaError
    from maya.messages import MessagesError
    from maya.sandbox.faults import FaultSpecError
    from maya.server.webhook import WebhookSecretError
    from maya.state import StoreURLError
    from maya.state.catalog import CatalogError

    # MayaError covers StateError, StoreError and StripeMCPError (McpConfigError for
    # mcp.json, ${VAR}, server name; the live-key refusal); OSError a file that is
    # missing, unreadable or unwritable.
    return (
        MayaError,
        StoreURLError,
        MenuError,
        CatalogError,
        MessagesError,
        FaultSpecError,
        WebhookSecretError,
        OSError,
    )


def describe_user_error(exc: BaseException) -> str:
    """``exc`` as one line for the terminal, with any secret masked."""
    from maya.errors import MayaError
    from maya.redact import redact, redact_conninfo_words

    text = str(exc)
    if isinstance(exc, MayaError) and exc.public_text:
        facts = ", ".join(f"{key}={value!r}" for key, value in exc.details.items())
        text = f"{exc.message} ({facts})" if facts else exc.message
    return redact(redact_conninfo_words(" ".join(text.split()))) or type(exc).__name__


def _find_user_error(
    exc: BaseException, kinds: tuple[type[BaseException], ...]
) -> BaseException | None:
    """``exc`` if it is a user error; inside a task group, its first one if all are."""
    if isinstance(exc, kinds):
        return exc
    if isinstance(exc, ExceptionGroup):
        found = [_find_user_error(inner, kinds) for inner in exc.exceptions]
        if found and all(error is not None for error in found):
            return found[0]
    return None


def _command_name(args: argparse.Namespace) -> str:
    words = ["maya", str(args.command)]
    # Sub-actions (``state show``, ``sandbox pay``) are kept in ``<command>_action``.
    action = getattr(args, f"{args.command}_action", None)
    if isinstance(action, str):
        words.append(action)
    return " ".join(words)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
