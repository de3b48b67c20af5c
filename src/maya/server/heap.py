"""The heap a server starts with, set aside from Python's cyclic garbage collector, and the
collector's pace for what the server makes afterwards.

A started ``maya serve`` holds some 160,000 objects that live as long as it does (its
modules, google-genai's and pydantic's types, the app). Each full collection walked all
of them: ~100 ms of one core, a pause for every request in flight, every thousand turns
or so; ~0.2 ms a chat turn in all, a tenth of its CPU. ``gc.freeze`` moves them to a
generation the collector never walks.

What the server makes afterwards is collected, at ``SERVER_GC_THRESHOLDS``: Python's
default (a young collection every 700 objects made) walked every young object alive,
and with tens of turns in flight those are thousands, for almost no garbage. Measured on
a running ``maya serve`` under load: ~1,800 young collections at ~0.19 ms each, ~165
middle ones at ~1 ms and ~15 full ones at ~19 ms in ten thousand turns, 80 us a turn, a
twelfth of its CPU, while they freed about one object each. At 20,000 the same load
spends 5-9% less CPU a turn; the garbage waiting for a collection stays under 20,000
objects.
"""

from __future__ import annotations

import gc

__all__ = ["SERVER_GC_THRESHOLDS", "freeze_started_heap"]

SERVER_GC_THRESHOLDS = (20_000, 20, 20)
"""``gc.set_threshold`` for a started server: a young collection every 20,000 objects
made (net), a middle one every 20 of those, a full one every 20 middle ones (and, as
always, only once the long-lived objects grew by a quarter)."""


def freeze_started_heap() -> int:
    """Collect what the start left behind, then set everything still alive aside from
    the collector for good (``gc.freeze``), and collect what comes after at
    ``SERVER_GC_THRESHOLDS``. Call it once the server is ready to serve. Returns how
    many objects are set aside in all."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    return gc.get_freeze_count()
