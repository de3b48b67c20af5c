"""``python -m maya.sandbox``: the same as ``maya sandbox``, for spawning as a subprocess."""

from __future__ import annotations

import argparse
import sys

from maya.sandbox.command import configure_parser

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` like ``maya sandbox`` and run the chosen action."""
    parser = argparse.ArgumentParser(
        prog="python -m maya.sandbox", description="Offline Stripe sandbox for Maya."
    )
    configure_parser(parser)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
