"""Stripe API operations the sandbox implements, by Stripe's OpenAPI operation id.

Both dialects end here. Parameters are checked as Stripe checks a form-encoded request
(unknown or missing ones are errors); every failure is a ``StripeError``. See ``OPERATIONS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from maya.sandbox.errors import StripeError
from maya.sandbox.store import SandboxStore

__all__ = [
    "OPERATIONS",
    "Operation",
    "run_operation",
    "with_base_url",
]


def _stringify_metadata(value: Any) -> Any:
    # Stripe metadata values are strings on the wire; a client sending 12 means "12".
    if isinstance(value, Mapping):
        return {
            str(key): str(item).lower()
            if isinstance(item, bool)
            else ""
            if item is None
            else str(item)
            for key, item in value.items()
        }
    return value


Metadata = Annotated[dict[str, str], BeforeValidator(_stringify_metadata)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _ProductData(_Params):
    name: str = Field(min_length=1)
    metadata: Metadata = Field(default_factory=dict)


class _Redirect(_Params):
    url: str = Field(min_length=1)


class _HostedConfirmation(_Params):
    custom_message: str | None = None


class _AfterCompletion(_Params):
    type: Literal["redirect", "hosted_confirmation"]
    redirect: _Redirect | None = None
    hosted_confirmation: _HostedConfirmation | None = None


class _LineItem(_Params):
    price: str = Field(min_length=1)
    quantity: int = Field(default=1, ge=1, le=999)


class _PostProducts(_Params):
    name: str = Field(min_length=1)
    description: str | None = None
    metadata: Metadata = Field(default_factory=dict)


class _PostPrices(_Params):
    product: str | None = None
    product_data: _ProductData | None = None
    unit_amount: int = Field(ge=0, le=99_999_999)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    metadata: Metadata = Field(default_factory=dict)


class _PostPaymentLinks(_Params):
    line_items: list[_LineItem] = Field(min_length=1, max_length=20)
    metadata: Metadata = Field(default_factory=dict)
    after_completion: _AfterCompletion | None = None


class _PostPaymentLinksPaymentLink(_Params):
    payment_link: str = Field(min_length=1)
    active: bool | None = None
    metadata: Metadata | None = None
    after_completion: _AfterCompletion | None = None


class _GetPaymentLinks(_Params):
    active: bool | None = None
    limit: int = Field(default=10, ge=1, le=100)
    starting_after: str | None = None


class _GetPaymentLinksPaymentLink(_Params):
    payment_link: str = Field(min_length=1)


class _GetCheckoutSessions(_Params):
    payment_link: str | None = None
    status: Literal["open", "complete", "expired"] | None = None
    limit: int = Field(default=10, ge=1, le=100)


def with_base_url(link: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A copy of a stored payment link whose ``url`` is absolute under ``base_url``."""
    return {**link, "url": base_url.rstrip("/") + link["url"]}


def _after_completion(value: _AfterCompletion | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if value.type == "redirect" and value.redirect is None:
        raise StripeError(
            "Missing required param: after_completion[redirect].",
            param="after_completion[redirect]",
        )
    return value.model_dump(exclude_none=True)


def _list(data: list[dict[str, Any]], has_more: bool, url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _post_products(store: SandboxStore, params: _PostProducts, _: str) -> dict[str, Any]:
    return store.create_product(
        name=params.name, description=params.description, metadata=params.metadata
    )


def _post_prices(store: SandboxStore, params: _PostPrices, _: str) -> dict[str, Any]:
    if (params.product is None) == (params.product_data is None):
        raise StripeError(
            "You must specify either `product` or `product_data` when creating a price.",
            param="product",
        )
    product = params.product
    if params.product_data is not None:
        product = store.create_product(
            name=params.product_data.name, metadata=params.product_data.metadata
        )["id"]
    assert product is not None  # guaranteed by the either/or check above
    return store.create_price(
        product=product,
        unit_amount=params.unit_amount,
        currency=params.currency.lower(),
        metadata=params.metadata,
    )


def _post_payment_links(
    store: SandboxStore, params: _PostPaymentLinks, base: str
) -> dict[str, Any]:
    link = store.create_payment_link(
        line_items=[(item.price, item.quantity) for item in params.line_items],
        metadata=params.metadata,
        after_completion=_after_completion(params.after_completion),
    )
    return with_base_url(link, base)


def _update_payment_link(
    store: SandboxStore, params: _PostPaymentLinksPaymentLink, base: str
) -> dict[str, Any]:
    link = store.update_payment_link(
        params.payment_link,
        active=params.active,
        metadata=params.metadata,
        after_completion=_after_completion(params.after_completion),
    )
    return with_base_url(link, base)


def _get_payment_links(store: SandboxStore, params: _GetPaymentLinks, base: str) -> dict[str, Any]:
    links, has_more = store.list_payment_links(
        active=params.active, limit=params.limit, starting_after=params.starting_after
    )
    return _list([with_base_url(link, base) for link in links], has_more, "/v1/payment_links")


def _get_payment_link(
    store: SandboxStore, params: _GetPaymentLinksPaymentLink, base: str
) -> dict[str, Any]:
    link = store.get_payment_link(params.payment_link)
    if link is None:
        raise StripeError(
            f"No such payment_link: '{params.payment_link}'",
            param="payment_link",
            code="resource_missing",
        )
    return with_base_url(link, base)


def _get_checkout_sessions(
    store: SandboxStore, params: _GetCheckoutSessions, _: str
) -> dict[str, Any]:
    sessions, has_more = store.list_checkout_sessions(
        payment_link=params.payment_link, status=params.status, limit=params.limit
    )
    return _list(sessions, has_more, "/v1/checkout/sessions")


@dataclass(frozen=True, slots=True)
class Operation:
    """One Stripe API operation.

    Attributes:
        id: Stripe's OpenAPI operation id, e.g. ``PostPaymentLinks``.
        write: Whether it changes anything (served by ``stripe_api_write``).
        params: The pydantic model its parameters must satisfy.
        handler: ``(store, params, checkout_base_url) -> Stripe object``.
    """

    id: str
    write: bool
    params: type[BaseModel]
    handler: Callable[[SandboxStore, Any, str], dict[str, Any]]


OPERATIONS: Mapping[str, Operation] = {
    op.id: op
    for op in (
        Operation("PostProducts", True, _PostProducts, _post_products),
        Operation("PostPrices", True, _PostPrices, _post_prices),
        Operation("PostPaymentLinks", True, _PostPaymentLinks, _post_payment_links),
        Operation(
            "PostPaymentLinksPaymentLink",
            True,
            _PostPaymentLinksPaymentLink,
            _update_payment_link,
        ),
        Operation("GetPaymentLinks", False, _GetPaymentLinks, _get_payment_links),
        Operation(
            "GetPaymentLinksPaymentLink",
            False,
            _GetPaymentLinksPaymentLink,
            _get_payment_link,
        ),
        Operation("GetCheckoutSessions", False, _GetCheckoutSessions, _get_checkout_sessions),
    )
}
"""Every operation the sandbox serves, by id, with the parameters it takes:

``PostProducts`` (write)
    ``name``, ``description``, ``metadata``.
``PostPrices`` (write)
    ``product`` or ``product_data: {name, metadata}``, ``unit_amount`` (cents), ``currency``,
    ``metadata``.
``PostPaymentLinks`` (write)
    ``line_items: [{price, quantity}]``, ``metadata``, ``after_completion``
    (``{type: redirect, redirect: {url}}`` or ``{type: hosted_confirmation}``).
    Every call makes a new link, as at Stripe: metadata (``idempotency_key`` among it)
    is stored, never used to deduplicate.
``PostPaymentLinksPaymentLink`` (write)
    ``payment_link`` (id), ``active`` (``false`` deactivates), ``metadata`` (merged; an
    empty value removes a key), ``after_completion``.
``GetPaymentLinks`` (read)
    ``active``, ``limit`` (1-100, default 10), ``starting_after``; newest first. No
    metadata search: a client finds a link by listing and matching its metadata.
``GetPaymentLinksPaymentLink`` (read)
    ``payment_link`` (id).
``GetCheckoutSessions`` (read)
    ``payment_link``, ``status`` (``open``/``complete``/``expired``), ``limit``; newest
    first. A link is paid when one of its sessions has ``status: complete`` and
    ``payment_status: paid``.
"""


def run_operation(
    store: SandboxStore,
    operation_id: str,
    parameters: Mapping[str, Any],
    *,
    checkout_base_url: str,
    write: bool | None = None,
) -> dict[str, Any]:
    """Validate ``parameters`` for ``operation_id`` and run it against ``store``.

    Args:
        store: Where the objects live.
        operation_id: A key of ``OPERATIONS``.
        parameters: The operation's parameters, as a client sent them.
        checkout_base_url: Prefix for payment link URLs, e.g. ``http://127.0.0.1:8123``.
        write: When given, the operation must be a write (True) or a read (False),
            which is how ``stripe_api_write``/``stripe_api_read`` split the API.

    Returns:
        The Stripe object (or list object) the operation produced.

    Raises:
        StripeError: an unknown operation, the wrong tool for it, bad parameters, or
            a failure of the operation itself.
    """
    operation = OPERATIONS.get(operation_id)
    if operation is None:
        known = ", ".join(sorted(OPERATIONS))
        raise StripeError(
            f"Unknown operation: '{operation_id}'. Supported operations: {known}.",
            param="stripe_api_operation_id",
        )
    if write is not None and operation.write != write:
        tool = "stripe_api_write" if operation.write else "stripe_api_read"
        raise StripeError(
            f"Operation '{operation_id}' must be called with {tool}.",
            param="stripe_api_operation_id",
        )
    try:
        params = operation.params.model_validate(dict(parameters))
    except ValidationError as exc:
        raise _as_stripe_error(exc) from exc
    return operation.handler(store, params, checkout_base_url)


def _as_stripe_error(exc: ValidationError) -> StripeError:
    # Stripe reports one problem at a time, naming it with bracketed form-style paths.
    error = exc.errors()[0]
    head, *rest = [str(part) for part in error["loc"]] or ["parameters"]
    param = head + "".join(f"[{part}]" for part in rest)
    if error["type"] == "missing":
        return StripeError(f"Missing required param: {param}.", param=param)
    if error["type"] == "extra_forbidden":
        return StripeError(f"Received unknown parameter: {param}", param=param)
    return StripeError(f"Invalid value for {param}: {error['msg']}.", param=param)
