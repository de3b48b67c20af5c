"""Secrets never survive ``redact``."""

from __future__ import annotations

import pytest

from maya.payments import redact

SECRET_TEXTS = [
    ("key sk_test_51AbCdEfGh123", "sk_test_***"),
    ("key sk_live_51AbCdEfGh123", "sk_live_***"),
    ("restricted rk_test_51AbCdEf and rk_live_9zz", "rk_test_***"),
    ("Authorization: Bearer sk_test_abc123", "Bearer ***"),
    ("gemini AIzaSyA1234567890abcdefghijklmnop", "AIza***"),
    ("webhook whsec_abcdef123", "whsec_***"),
]


@pytest.mark.parametrize(("text", "masked"), SECRET_TEXTS)
def test_redact_masks_each_kind_of_secret(text: str, masked: str) -> None:
    result = redact(text)
    assert masked in result
    assert "123" not in result.replace("***", "") or "123" not in text.split()[-1]


def test_redact_keeps_the_mode_prefix_and_drops_the_key() -> None:
    assert redact("--api-key=sk_test_51Hsecret") == "--api-key=sk_test_***"
    assert "51Hsecret" not in redact('{"Authorization": "Bearer 51Hsecret"}')


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "PostPaymentLinks plink_123 https://buy.stripe.com/test_abc sk_ish"
    assert redact(text) == text
