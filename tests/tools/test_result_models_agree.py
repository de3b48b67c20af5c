"""The tool result spells the payment side's outcomes itself (the tools layer does not import
``maya.payments``): the two lists must stay one."""

from __future__ import annotations

from typing import get_args

from maya.payments.results import CheckOutcome
from maya.tools.result_models import PaymentCheckResult


def test_the_check_result_offers_exactly_the_payment_sides_outcomes() -> None:
    annotation = PaymentCheckResult.model_fields["payment_status"].annotation
    assert set(get_args(annotation)) == set(get_args(CheckOutcome))
    assert "simulated" in get_args(annotation)  # a simulated payment is never "succeeded"
