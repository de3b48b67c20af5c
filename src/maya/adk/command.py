"""``maya conversations export-adk``: conversation files to an ADK eval set.

``maya conversations export-adk [FILE ...] [--out PATH] [--app-name NAME]`` plays each
conversation (default: ``tests/conversations/*.yaml``) and writes the eval set as JSON
to ``--out`` (e.g. ``examples/maya_bar/maya.evalset.json``) or stdout. Needs no ADK.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import anyio

from maya.conversations.runner import ConversationFailure
from maya.conversations.schema import ConversationError

__all__ = ["DEFAULT_FOLDER", "register", "run_export"]

DEFAULT_FOLDER = Path("tests") / "conversations"
"""Where conversation files are looked for when none are named."""


def run_export(args: argparse.Namespace) -> int:
    """Write the eval set; 0 on success, 1 when a conversation fails its expectations, 2
    when a file cannot be read or is no conversation, or none is found (a user error, as
    every ``maya`` command answers one)."""
    from maya.adk.eval_set import export_eval_set

    paths: list[Path] = list(args.files) or sorted(DEFAULT_FOLDER.glob("*.yaml"))
    if not paths:
        print(f"maya conversations: no conversation files in {DEFAULT_FOLDER}", file=sys.stderr)
        return 2
    try:
        eval_set = anyio.run(
            lambda: export_eval_set(paths, eval_set_id=args.eval_set_id, app_name=args.app_name)
        )
    except ConversationError as exc:
        print(f"maya conversations: {exc}", file=sys.stderr)
        return 2
    except ConversationFailure as exc:
        print(f"maya conversations: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(eval_set, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(eval_set['eval_cases'])} eval cases)", file=sys.stderr)
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    """``maya conversations`` alone: its own help (not the top-level one), exit 2."""
    parser.print_help(sys.stderr)
    return 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``conversations export-adk`` to the ``maya`` command."""
    parser = subparsers.add_parser(
        "conversations", help="work with conversation files (export-adk: an ADK eval set)"
    )
    parser.set_defaults(func=lambda args: _usage(parser))
    actions = parser.add_subparsers(dest="conversations_action", metavar="{export-adk}")
    export = actions.add_parser(
        "export-adk",
        help="play conversation files and write them as a Google ADK eval set (JSON)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("files", nargs="*", type=Path, metavar="FILE", help="conversation YAML")
    export.add_argument("--out", type=Path, default=None, metavar="PATH", help="default: stdout")
    export.add_argument("--app-name", default="maya_bar", help="the ADK app the cases run against")
    export.add_argument("--eval-set-id", default="maya_conversations", help="the eval set's id")
    export.set_defaults(func=run_export)
