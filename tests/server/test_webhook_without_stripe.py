"""Without the ``[serve]`` extra (no ``stripe``), the webhook refuses to start, naming it."""

from __future__ import annotations

import sys

import pytest

from maya.server.webhook import StripeLibraryMissing, WebhookSecretError, check_webhook_secret


def test_the_webhook_names_the_extra_when_stripe_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "stripe", None)  # import stripe -> ImportError
    with pytest.raises(StripeLibraryMissing, match=r"maya-payments\[serve\]") as raised:
        check_webhook_secret("whsec_" + "0" * 32)
    # The CLI answers it as the user's error (no traceback), as it does a bad secret.
    assert isinstance(raised.value, WebhookSecretError)


def test_with_stripe_the_secret_is_checked_as_before() -> None:
    assert check_webhook_secret("whsec_" + "0" * 32) == "whsec_" + "0" * 32
    with pytest.raises(WebhookSecretError):
        check_webhook_secret("sk_test_nope")


def test_a_refused_secret_is_told_the_rule_it_broke() -> None:
    # "whsec_abc" starts with whsec_: what it lacks is length, and the message says so.
    for bad in ("whsec_abc", "sk_test_nope", " whsec_abcdefgh"):
        with pytest.raises(WebhookSecretError) as raised:
            check_webhook_secret(bad)
        assert "whsec_ followed by at least 4 characters" in str(raised.value)
        assert "starts with whsec_" not in str(raised.value)
    assert check_webhook_secret("whsec_abcd") == "whsec_abcd"
