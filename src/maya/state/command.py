"""``maya state``: look at and manage tabs from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio

from maya.bar import load_menu
from maya.bar.walkthrough import run_state_demo
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.store import TabStore
from maya.state.view import tab_line

__all__ = ["register"]


def _open(url: str | None, *, read_only: bool = False) -> TabStore:
    if url == "memory://":
        return MemoryTabStore()
    # Imported late so `maya --help` never loads the SQL drivers.
    from maya.state.open import open_store

    return open_store(url, read_only=read_only)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``maya state`` with ``demo``, ``show`` and ``reset``."""
    parser = subparsers.add_parser("state", help="inspect tabs; run the state-only demo")
    _add_store(parser, default=None)
    actions = parser.add_subparsers(dest="state_action", metavar="ACTION", required=True)
    demo = actions.add_parser("demo", help="walk one session through the tab's life")
    demo.set_defaults(func=_demo, store_default="memory://")
    show = actions.add_parser("show", help="print a session's tab")
    show.add_argument("session")
    show.add_argument("--json", action="store_true", help="the whole state as JSON")
    show.set_defaults(func=_show)
    reset = actions.add_parser("reset", help="start a session over")
    reset.add_argument("session")
    reset.set_defaults(func=_reset)
    for action in (demo, show, reset):
        # Also after the action, as every other command takes it after its name.
        _add_store(action, default=argparse.SUPPRESS)


def _add_store(parser: argparse.ArgumentParser, *, default: str | None) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        default=default,
        help="memory://, a SQLite path or postgresql://...",
    )


def _demo(args: argparse.Namespace) -> int:
    async def run() -> int:
        store = _open(args.store or args.store_default)
        try:
            return await run_state_demo(store)
        finally:
            await store.aclose()

    return anyio.run(run)


def _show(args: argparse.Namespace) -> int:
    async def run() -> int:
        # Only looking: a read-only file, or one another process is writing, still shows.
        store = _open(args.store, read_only=True)
        try:
            state = await TabManager(store, catalog=load_menu()).get(args.session)
        finally:
            await store.aclose()
        if args.json:
            data: dict[str, Any] = state.model_dump(mode="json")
            print(json.dumps(data, indent=2))
        else:
            print(tab_line(state))
            for item in state.items:
                mods = f" ({', '.join(item.modifiers)})" if item.modifiers else ""
                print(f"  {item.quantity} x {item.name}{mods}")
        return 0

    return anyio.run(run)


def _reset(args: argparse.Namespace) -> int:
    async def run() -> int:
        store = _open(args.store)
        try:
            print(tab_line(await TabManager(store, catalog=load_menu()).reset(args.session)))
        finally:
            await store.aclose()
        return 0

    return anyio.run(run)
