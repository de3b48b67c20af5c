"""A separate OS process for the state tests: ``python _worker.py '<json request>'``.

Requests (JSON on the command line, one JSON answer on stdout):

- ``{"op": "orders", "url", "session", "item", "count"}``: place ``count`` orders at
  once (one task each) and report how many were accepted or refused, and the balance
  each refusal reported;
- ``{"op": "dump", "url", "session"}``: the stored state as JSON (or null), without
  computed fields so ``TabState.model_validate`` takes it back;
- ``{"op": "write", "url", "session"}``: put a small tab with a payment on it, and
  answer the resulting state.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio

from maya.bar import load_menu
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.open import open_store


async def orders(request: dict[str, Any]) -> dict[str, Any]:
    accepted = 0
    refused: list[str] = []
    store = open_store(request["url"])
    try:
        manager = TabManager(store, catalog=load_menu())

        async def one() -> None:
            nonlocal accepted
            try:
                await manager.order(request["session"], request["item"])
            except StateError as exc:
                refused.append(f"{exc.code.value} {exc.details.get('balance')}")
            else:
                accepted += 1

        async with anyio.create_task_group() as group:
            for _ in range(request["count"]):
                group.start_soon(one)
    finally:
        await store.aclose()
    return {"accepted": accepted, "refused": refused}


async def dump(request: dict[str, Any]) -> Any:
    store = open_store(request["url"])
    try:
        state = await store.load(request["session"])
    finally:
        await store.aclose()
    return None if state is None else state.model_dump(mode="json", exclude_computed_fields=True)


async def write(request: dict[str, Any]) -> Any:
    store = open_store(request["url"])
    session = request["session"]
    try:
        manager = TabManager(store, clock=lambda: 1_700_000_000.0, catalog=load_menu())
        await manager.order(session, "Negroni", 2, ["stirred"])
        await manager.set_tip(session, 10)
        started = await manager.begin_payment(session)
        await manager.record_payment_link(
            session,
            idempotency_key=started.payment.idempotency_key,
            payment_id=f"plink_{session}_child",
            url="https://buy.stripe.com/test_child",
            is_simulated=True,
        )
        state = await manager.order(session, "Soda")
    finally:
        await store.aclose()
    return state.model_dump(mode="json", exclude_computed_fields=True)


def main() -> None:
    request = json.loads(sys.argv[1])
    handler = {"orders": orders, "dump": dump, "write": write}[request["op"]]

    async def run() -> Any:
        return await handler(request)

    print(json.dumps(anyio.run(run)))


if __name__ == "__main__":
    main()
