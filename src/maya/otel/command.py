"""``maya trace FILE --otlp-json OUT``: the agent's trace command learns to write OTLP JSON
(``--otlp-content`` keeps message text, arguments and results in the spans).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from maya.otel.tracer import CAPTURE_CONTENT_ENV

__all__ = ["register", "write_otlp_json"]


def write_otlp_json(path: Path, out: Path, *, capture_content: bool) -> int:
    """Convert the trace at ``path``; 0 on success, 1 when unreadable, 2 without the SDK."""
    try:
        from maya.otel.otlp_json import trace_to_otlp_json
    except ImportError:
        print("maya trace: --otlp-json needs the [otel] extra (opentelemetry-sdk)", file=sys.stderr)
        return 2
    try:
        document = trace_to_otlp_json(path, capture_content=capture_content)
        out.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"maya trace: cannot convert {path}: {exc}", file=sys.stderr)
        return 1
    spans = sum(len(s["spans"]) for r in document["resourceSpans"] for s in r["scopeSpans"])
    print(f"wrote {out} ({spans} spans)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Give ``maya trace`` its ``--otlp-json OUT`` and ``--otlp-content`` options."""
    parser = subparsers.choices.get("trace")
    if parser is None:
        raise RuntimeError("maya.otel.command must be registered after maya.agent.commands")
    parser.add_argument(
        "--otlp-json",
        type=Path,
        default=None,
        metavar="OUT",
        help="write the trace as OpenTelemetry spans (OTLP JSON) by the GenAI conventions",
    )
    parser.add_argument(
        "--otlp-content",
        action="store_true",
        help=f"keep message and tool content in the spans (or {CAPTURE_CONTENT_ENV}=true)",
    )
    show: Callable[[argparse.Namespace], int] = parser.get_default("func")

    def trace(args: argparse.Namespace) -> int:
        if args.otlp_json is None:
            return show(args)
        content = args.otlp_content or os.environ.get(CAPTURE_CONTENT_ENV, "").lower() == "true"
        return write_otlp_json(args.file, args.otlp_json, capture_content=content)

    parser.set_defaults(func=trace)
