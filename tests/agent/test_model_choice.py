"""Which model Maya runs on, and the guard that keeps tests off real models."""

from __future__ import annotations

import anyio
import pytest

from maya.agent import GeminiModel, OfflineModel, RealModelForbiddenError, choose_model
from maya.agent.models import check_real_model_allowed
from maya.redact import REDACTED, Redactor


def test_without_a_key_the_offline_model_is_chosen_and_announced() -> None:
    choice = choose_model({})
    assert isinstance(choice.model, OfflineModel) and choice.is_offline
    assert "offline" in choice.announcement


def test_with_a_key_and_a_local_base_url_gemini_is_chosen() -> None:
    env = {
        "GEMINI_API_KEY": "fake-key-123456",
        "MAYA_FORBID_REAL_MODEL": "1",
        "MAYA_GEMINI_BASE_URL": "http://127.0.0.1:9",
        "MAYA_GEMINI_MODEL": "gemini-test",
    }
    choice = choose_model(env)
    assert isinstance(choice.model, GeminiModel) and choice.model.name == "gemini-test"
    assert "fake-key" not in choice.announcement
    anyio.run(choice.model.aclose)


def test_offline_can_be_forced_even_with_a_key() -> None:
    assert choose_model({"GOOGLE_API_KEY": "fake-key-123456"}, offline=True).is_offline


def test_a_real_endpoint_is_refused_under_the_guard() -> None:
    with pytest.raises(RealModelForbiddenError):
        choose_model({"GEMINI_API_KEY": "fake-key-123456", "MAYA_FORBID_REAL_MODEL": "1"})


@pytest.mark.parametrize("url", ["http://localhost:8080", "http://[::1]:80", "http://127.0.0.1"])
def test_local_endpoints_pass_the_guard(url: str) -> None:
    check_real_model_allowed(url, {"MAYA_FORBID_REAL_MODEL": "1"})


def test_without_the_guard_any_endpoint_passes() -> None:
    check_real_model_allowed(None, {})


def test_the_redactor_hides_patterns_and_known_values() -> None:
    redactor = Redactor(secrets=["my-own-secret"], env={"STRIPE_SECRET_KEY": "whatever-value"})
    text = redactor.text("sk_test_abcdef123456 my-own-secret whatever-value Bearer tok3n-value-x")
    assert "abcdef123456" not in text and "my-own-secret" not in text
    assert "whatever-value" not in text and "tok3n-value-x" not in text
    assert redactor.value({"k": ["my-own-secret"]}) == {"k": [REDACTED]}
