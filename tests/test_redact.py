"""Secrets never survive ``redact``."""

from __future__ import annotations

import pytest

from maya.redact import redact

SECRET_TEXTS = [
    ("key sk_test_51AbCdEfGh123", "sk_test_***", "51AbCdEfGh123"),
    ("key sk_live_51AbCdEfGh123", "sk_live_***", "51AbCdEfGh123"),
    ("restricted rk_test_51AbCdEf here", "rk_test_***", "51AbCdEf"),
    ("restricted rk_live_9zzQQ here", "rk_live_***", "9zzQQ"),
    ("Authorization: Bearer tok_abc123", "Bearer ***", "tok_abc123"),
    ("gemini AIzaSyA1234567890abcdefghijklmnop", "AIza***", "SyA1234567890abcdefghijklmnop"),
    ("webhook whsec_abcdef123", "whsec_***", "abcdef123"),
]


@pytest.mark.parametrize(("text", "masked", "secret"), SECRET_TEXTS)
def test_redact_masks_each_kind_of_secret(text: str, masked: str, secret: str) -> None:
    result = redact(text)
    assert masked in result
    assert secret not in result


def test_redact_keeps_the_mode_prefix_and_drops_the_key() -> None:
    assert redact("--api-key=sk_test_51Hsecret") == "--api-key=sk_test_***"
    assert "51Hsecret" not in redact('{"Authorization": "Bearer 51Hsecret"}')


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "PostPaymentLinks plink_123 https://buy.stripe.com/test_abc sk_ish"
    assert redact(text) == text
