"""The response builders skip google-genai's validation (they copy empty instances with
their fields); what they build is what validation would have built, a copy never changes
the instance it was copied from, and what would not validate is refused."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import types
from pydantic import TypeAdapter

from maya.agent.models import calls_response, text_response
from maya.agent.models.base import content_of, text_part

_CONTENTS = TypeAdapter(list[types.Content])


def _validated(parts: list[dict[str, Any]]) -> types.GenerateContentResponse:
    return types.GenerateContentResponse.model_validate(
        {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finish_reason": "STOP", "index": 0}
            ]
        }
    )


def test_a_text_response_is_the_validated_one() -> None:
    built = text_response("One Tap Beer.")
    assert built == _validated([{"text": "One Tap Beer."}])
    assert built.model_dump_json(exclude_none=True) == _validated(
        [{"text": "One Tap Beer."}]
    ).model_dump_json(exclude_none=True)


def test_a_calls_response_is_the_validated_one_and_stores_as_it() -> None:
    built = calls_response(
        [("order_drink", {"name": "Water", "quantity": 2}), ("get_bill", {})],
        text="Sure.",
        id_prefix="offline",
        start=3,
    )
    expected = _validated(
        [
            {"text": "Sure."},
            {
                "function_call": {
                    "id": "offline_3",
                    "name": "order_drink",
                    "args": {"name": "Water", "quantity": 2},
                }
            },
            {"function_call": {"id": "offline_4", "name": "get_bill", "args": {}}},
        ]
    )
    assert built == expected
    content = built.candidates[0].content  # type: ignore[index]
    assert content is not None
    # History stores contents as JSON and reads them back validated: the same turn.
    stored = _CONTENTS.dump_json([content], exclude_none=True)
    assert _CONTENTS.validate_json(stored) == [expected.candidates[0].content]  # type: ignore[index]


@pytest.mark.parametrize("bad", [None, 5, b"bytes"])
def test_what_would_not_validate_is_refused(bad: Any) -> None:
    with pytest.raises(TypeError, match="str"):
        text_part(bad)
    with pytest.raises(TypeError, match="str"):
        calls_response([(bad, {})])
    with pytest.raises(TypeError, match=r"types\.Part"):
        content_of("user", [text_part("fine"), bad])


def test_each_build_is_its_own() -> None:
    first = calls_response([("order_drink", {"name": "Water"})])
    second = calls_response([("get_bill", {})])
    first.candidates[0].content.parts[0].function_call.args["name"] = "Changed"  # type: ignore[index,union-attr]
    again = calls_response([("order_drink", {"name": "Water"})])
    assert again.candidates[0].content.parts[0].function_call.args == {"name": "Water"}  # type: ignore[index,union-attr]
    assert second.candidates[0].content.parts[0].function_call.name == "get_bill"  # type: ignore[index,union-attr]
    assert text_part("a").text == "a" and text_part("b").text == "b"
