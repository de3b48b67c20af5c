"""The plugin for someone else's shop: a catalog in any currency, neutral words, the
payment pair alone, callables for automatic function calling, honest defaults."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.messages import DEFAULT_MESSAGES, MessagesError, load_messages
from maya.money import MoneyError, format_amount, minor_units, parse_amount
from maya.payments import McpConfigError, StripeMCPClient, open_stripe_client
from maya.sandbox import CARD_SUCCESS, MEMORY, SandboxStore, build_mcp_server, pay_link
from maya.sandbox.checkout import build_checkout_app
from maya.state import MemoryTabStore, StateError, TabManager
from maya.state.catalog import Catalog, CatalogError, LineItem, TabSettings
from maya.testing import FakeClock
from maya.tools import Toolset
from maya.tools.catalog import CATALOG_TOOLS, PAYMENT_TOOLS, RESULT_MODELS, TOOLS
from maya.tools.result_models import PaymentCheckResult
from maya.tools.toolset import ToolSchemaError
from shop_support import BANNED

pytestmark = pytest.mark.anyio

SESSION = "cafe-1"

COFFEE = {"merchant": "Bean There", "currency": "eur", "items": {"Flat white": "3.20"}}


def coffee_catalog(currency: str = "eur") -> Catalog:
    prices = {
        "eur": {"Flat white": "3.20", "Croissant": "2.10", "Espresso": "2.40"},
        "jpy": {"Flat white": "620", "Croissant": "380", "Matcha latte": "¥3,100"},
    }[currency]
    return Catalog(prices, merchant="Bean There", currency=currency)


def words_in(value: Any) -> list[str]:
    """Every string inside a result, keys and values."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [w for k, v in value.items() for w in (k, *words_in(v))]
    if isinstance(value, list | tuple):
        return [w for v in value for w in words_in(v)]
    return []


def test_amounts_are_formatted_in_their_currency() -> None:
    assert format_amount(450, "eur") == "€4.50"
    assert format_amount(3100, "jpy") == "¥3,100"
    assert format_amount(100000, "usd") == "$1,000.00"
    assert format_amount(1500, "kwd") == "KWD 1.500"
    assert format_amount(-250, "eur") == "-€2.50"
    assert (minor_units("jpy"), minor_units("eur"), minor_units("bhd")) == (0, 2, 3)


def test_amounts_are_parsed_into_the_minor_unit_of_their_currency() -> None:
    assert parse_amount("€4.50", "eur") == 450
    assert parse_amount("¥3,100", "jpy") == 3100
    assert parse_amount(12, "eur") == 1200
    assert parse_amount("1.5", "kwd") == 1500
    with pytest.raises(MoneyError, match="whole"):
        parse_amount("31.5", "jpy")
    with pytest.raises(MoneyError, match="currency"):
        parse_amount("1", "euro")
    assert parse_amount("CA$4.50", "cad") == parse_amount("$4.50", "cad") == 450
    assert parse_amount("$1,234,567.50", "usd") == 123_456_750


@pytest.mark.parametrize("price", ["1,20", "0,45", "1,0000", "12,34.5", "1,2,3"])
def test_a_decimal_comma_is_refused_never_read_as_a_hundred_times_the_price(price: str) -> None:
    with pytest.raises(MoneyError, match="a dot marks the decimals"):
        parse_amount(price, "eur")
    with pytest.raises(CatalogError, match="a dot marks the decimals"):
        Catalog({"Brezel": price}, merchant="Bakery", currency="eur")


@pytest.mark.parametrize(
    ("price", "currency"),
    [("$4.50", "eur"), ("¥30", "eur"), ("€4.50", "usd"), ("CA$4.50", "usd"), ("£2", "jpy")],
)
def test_an_amount_in_another_currencys_sign_is_refused(price: str, currency: str) -> None:
    with pytest.raises(MoneyError, match=f"another currency than {currency.upper()}"):
        parse_amount(price, currency)
    with pytest.raises(CatalogError, match="another currency"):
        Catalog({"Brezel": price}, merchant="Bakery", currency=currency)


def test_a_catalog_comes_from_yaml_or_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "menu.yaml"
    yaml_file.write_text(
        "merchant: Bean There\ncurrency: JPY\nitems:\n"
        "  - {name: Matcha latte, price: '3,100', category: Tea}\n",
        encoding="utf-8",
    )
    catalog = Catalog.from_file(yaml_file)
    assert catalog.currency == "jpy" and catalog.find("matcha lattes").price_cents == 3100
    json_file = tmp_path / "menu.json"
    json_file.write_text(json.dumps(COFFEE), encoding="utf-8")
    assert Catalog.from_file(json_file).find("Flat white").price_cents == 320


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({**COFFEE, "items": {"Flat white": 3.2}}, "as text"),
        ({**COFFEE, "items": {"Flat white": "3.205"}}, "decimals"),
        ({**COFFEE, "currency": "euro"}, "ISO 4217"),
        ({**COFFEE, "currency": "xyz"}, "XYZ is not an ISO 4217 currency code"),
        ({**COFFEE, "items": {}}, "at least one"),
        ({"currency": "eur", "items": {"Tea": "1"}}, "merchant"),
        ({**COFFEE, "items": {"Flat white": "0"}}, "'Flat white' must be more than 0$"),
        ({**COFFEE, "items": {"Yacht": "1000000"}}, "over €999,999.99, the most one card"),
        ({**COFFEE, "currency": "kwd", "items": {"Tea": "1.005"}}, "steps of KWD 0.010"),
    ],
)
def test_an_unusable_catalog_is_refused_saying_why(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(CatalogError, match=problem):
        Catalog.from_mapping(data)


async def test_a_catalog_tab_has_no_prepaid_balance_and_bills_what_was_ordered() -> None:
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog())
    toolset = Toolset(manager=manager, payments=None, tools=CATALOG_TOOLS)
    ordered = await toolset.call("order_item", {"name": "Flat white", "quantity": 30}, SESSION)
    assert ordered["status"] == "ok"
    assert "balance" not in ordered["result"] and ordered["result"]["tab"] == "€96.00"
    bill = (await toolset.call("get_bill", {}, SESSION))["result"]
    assert "balance" not in bill and bill["total_due_cents"] == 9600
    state = await manager.get(SESSION)
    assert state.currency == "eur" and state.balance_cents == 0


async def test_tab_settings_bound_quantity_and_tips_and_may_prepay() -> None:
    settings = TabSettings(starting_balance_cents=500, max_quantity=3, tip_percentages=(10,))
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog(), settings=settings)
    with pytest.raises(StateError) as too_many:
        await manager.order(SESSION, "Espresso", 4)
    assert too_many.value.code is ErrorCode.INVALID_QUANTITY and too_many.value.details["max"] == 3
    with pytest.raises(StateError) as too_dear:
        await manager.order(SESSION, "Flat white", 2)
    assert too_dear.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert too_dear.value.details["balance"] == "€5.00"
    with pytest.raises(StateError) as tip:
        await manager.set_tip(SESSION, 15)
    assert tip.value.details["allowed"] == [10]
    assert (await manager.get(SESSION)).version == 0  # nothing changed


@pytest.mark.parametrize(
    ("settings", "maximum", "tips"),
    [
        (TabSettings(), 99, [10, 15, 20]),
        (TabSettings(max_quantity=5000, tip_percentages=(10,)), 5000, [10]),
        (TabSettings(max_quantity=1, tip_percentages=(15, 20)), 1, [15, 20]),
    ],
)
async def test_the_declarations_state_the_tabs_own_limits(
    settings: TabSettings, maximum: int, tips: list[int] | None
) -> None:
    """The model is told the limits it will meet: the tab's quantity bound (up to 10,000,
    not a fixed 999) and only the tips offered; an order the bound allows is taken."""
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog(), settings=settings)
    toolset = Toolset(manager=manager, payments=None, tools=(*CATALOG_TOOLS, TOOLS["set_tip"]))
    declared = {d.name: d.parameters_json_schema for d in toolset.declarations}
    quantity = declared["order_item"]["properties"]["quantity"]  # type: ignore[index]
    percent = declared["set_tip"]["properties"]["percent"]  # type: ignore[index]
    assert (quantity["maximum"], quantity["description"]) == (
        maximum,
        f"How many, 1-{maximum}. Default 1.",
    )
    assert percent.get("enum") == tips
    ordered = await toolset.call("order_item", {"name": "Espresso", "quantity": maximum}, SESSION)
    assert ordered["status"] == "ok", ordered
    refused = await toolset.call(
        "order_item", {"name": "Espresso", "quantity": maximum + 1}, SESSION
    )
    assert refused["status"] == "error"
    assert f"1 to {maximum}" in refused["message"] or str(maximum) in refused["message"]


def test_tip_tools_on_a_tab_that_takes_no_tips_are_refused_saying_so() -> None:
    settings = TabSettings(tip_percentages=())
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog(), settings=settings)
    with pytest.raises(ToolSchemaError, match="set_tip: the tab takes no tips"):
        Toolset(manager=manager, payments=None, tools=(*CATALOG_TOOLS, TOOLS["set_tip"]))
    assert Toolset(manager=manager, payments=None, tools=CATALOG_TOOLS).tool_names


async def test_a_bill_no_card_payment_could_take_is_refused_before_any_link(
    client: StripeMCPClient, sandbox: SandboxStore
) -> None:
    """Orders stop at what one card payment can take; a tip past it is refused at Pay,
    naming the bill, never retried, and no link is asked for (the model passed no
    amount: 'the request didn't fit the tool' was the wrong answer)."""
    catalog = Catalog({"Yacht": "600000", "Dinghy": "300000"}, merchant="Boats", currency="eur")
    manager = TabManager(MemoryTabStore(), catalog=catalog)
    toolset = Toolset(manager=manager, payments=client, tools=(*CATALOG_TOOLS, TOOLS["set_tip"]))
    assert (await toolset.call("order_item", {"name": "Yacht"}, SESSION))["status"] == "ok"
    too_much = await toolset.call("order_item", {"name": "Yacht"}, SESSION)
    assert (too_much["error"], too_much["retryable"]) == ("BILL_NOT_PAYABLE", False)
    assert "€1,200,000.00" in too_much["message"] and "€999,999.99" in too_much["message"]
    assert (await toolset.call("order_item", {"name": "Dinghy"}, SESSION))["status"] == "ok"
    assert (await toolset.call("set_tip", {"percent": 20}, SESSION))["status"] == "ok"
    before = await manager.get(SESSION)
    paying = await toolset.call("create_stripe_payment", {}, SESSION)
    assert (paying["error"], paying["retryable"]) == ("BILL_NOT_PAYABLE", False)
    assert "€1,080,000.00" in paying["message"], paying
    assert await manager.get(SESSION) == before  # nothing kept, no payment begun
    assert sandbox.list_payment_links()[0] == []  # and Stripe was never asked


async def test_a_three_decimal_tab_tips_and_bills_in_steps_a_card_can_charge() -> None:
    catalog = Catalog({"Tea": "1.010"}, merchant="Tea house", currency="kwd")
    manager = TabManager(MemoryTabStore(), catalog=catalog)
    await manager.order(SESSION, "Tea")
    state = await manager.set_tip(SESSION, 15)
    assert (state.tip_cents, state.total_due_cents) == (150, 1160)  # not 152 and 1162
    with pytest.raises(StateError) as off_step:
        await manager.add_items(SESSION, [LineItem(name="Biscuit", unit_price_cents=1005)])
    assert off_step.value.code is ErrorCode.BILL_NOT_PAYABLE
    assert off_step.value.details["step"] == "KWD 0.010"


async def test_lines_priced_by_the_integrator_go_on_the_tab_all_or_none() -> None:
    settings = TabSettings(starting_balance_cents=1000)
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog(), settings=settings)
    lines = [
        LineItem(name="Cake", unit_price_cents=450),
        LineItem(name="Tea", unit_price_cents=300),
    ]
    state = await manager.add_items(SESSION, lines)
    assert state.tab_cents == 750 and [i.name for i in state.items] == ["Cake", "Tea"]
    with pytest.raises(StateError) as refused:
        await manager.add_items(SESSION, [*lines, LineItem(name="Pie", unit_price_cents=100)])
    assert refused.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert (await manager.get(SESSION)) == state


def test_a_partial_messages_override_changes_only_its_keys(tmp_path: Path) -> None:
    book = load_messages(overrides={"payment_link_ready": "Pay {amount} here: {url}"})
    assert book.render("payment_link_ready", {"amount": "€4.50", "url": "u"}) == "Pay €4.50 here: u"
    assert book.render("payment_succeeded", {"amount": "€4.50"}) == load_messages().render(
        "payment_succeeded", {"amount": "€4.50"}
    )
    partial = tmp_path / "words.yaml"
    partial.write_text("NOTHING_TO_CANCEL: Nothing to take back.\n", encoding="utf-8")
    from_file = load_messages(partial)
    assert from_file.render(ErrorCode.NOTHING_TO_CANCEL) == "Nothing to take back."
    assert from_file.render("payment_pending") == DEFAULT_MESSAGES["payment_pending"][0]


def test_an_unknown_message_key_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(MessagesError, match="payment_redy"):
        load_messages(overrides={"payment_redy": "typo"})
    wrong = tmp_path / "words.yaml"
    wrong.write_text("PAYMENT_DECLIND: no\n", encoding="utf-8")
    with pytest.raises(MessagesError, match="PAYMENT_DECLIND"):
        Toolset(
            manager=TabManager(MemoryTabStore(), catalog=load_menu()),
            payments=None,
            messages_path=wrong,
        )


def test_the_default_words_name_no_business_or_persona() -> None:
    for key, templates in DEFAULT_MESSAGES.items():
        for template in templates:
            assert not BANNED.search(template), (key, template)


async def test_a_tool_the_toolset_does_not_own_is_not_retried_and_neutral() -> None:
    toolset = Toolset(
        manager=TabManager(MemoryTabStore(), catalog=load_menu()),
        payments=None,
        tools=PAYMENT_TOOLS,
    )
    assert toolset.tool_names == ("create_stripe_payment", "check_payment_status")
    answer = await toolset.call("brew_coffee", {}, SESSION)
    assert answer["error"] == "UNKNOWN_TOOL" and answer["retryable"] is False
    assert not BANNED.search(answer["message"])


async def test_callables_are_typed_functions_returning_the_tools_result() -> None:
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog())
    toolset = Toolset(manager=manager, payments=None, tools=CATALOG_TOOLS)
    functions = {f.__name__: f for f in toolset.callables(SESSION)}
    assert list(functions) == list(toolset.tool_names)
    order = functions["order_item"]
    declaration = {d.name: d for d in toolset.declarations}["order_item"]
    assert order.__doc__ == declaration.description
    parameters = inspect.signature(order).parameters
    assert parameters["name"].annotation is str and parameters["quantity"].annotation is int
    assert parameters["quantity"].default == 1
    assert parameters["name"].default is inspect.Parameter.empty
    result = await order(name="Croissant", quantity=2)
    assert result["ordered"]["line"] == "€4.20" and "status" not in result
    refused = await order(name="Soup")
    assert refused["status"] == "error" and refused["error"] == "UNKNOWN_ITEM"
    check = inspect.signature(functions["check_payment_status"]).parameters["payment_id"]
    assert check.default is None


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    with SandboxStore(MEMORY) as store:
        yield store


@pytest.fixture
async def client(sandbox: SandboxStore) -> AsyncIterator[StripeMCPClient]:
    server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
    clock = FakeClock()
    async with StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as opened:
        yield opened


async def _ok(toolset: Toolset, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    with anyio.fail_after(30):
        response = await toolset.call(name, args or {}, SESSION)
    assert response["status"] == "ok", response
    result: dict[str, Any] = response["result"]
    # Every result is what its typed model says, and the model reads it back unchanged.
    typed = RESULT_MODELS[name].model_validate(result)
    assert typed.model_dump(exclude_unset=True) == result
    return result


@pytest.mark.parametrize(
    ("currency", "orders", "total", "shown"),
    [
        ("eur", [("Flat white", 2), ("Croissant", 1)], 850, "€8.50"),
        ("jpy", [("Matcha latte", 1), ("Croissant", 2)], 3860, "¥3,860"),
    ],
)
async def test_a_coffee_order_is_paid_in_its_currency_end_to_end(
    client: StripeMCPClient,
    sandbox: SandboxStore,
    currency: str,
    orders: list[tuple[str, int]],
    total: int,
    shown: str,
) -> None:
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog(currency))
    toolset = Toolset(manager=manager, payments=client, tools=CATALOG_TOOLS)
    said: list[Any] = [await _ok(toolset, "get_catalog")]
    for name, quantity in orders:
        said.append(await _ok(toolset, "order_item", {"name": name, "quantity": quantity}))
    link = await _ok(toolset, "create_stripe_payment")
    said.append(link)
    assert link["amount_cents"] == total and link["amount"] == shown
    assert link["provider"] == "sandbox" and link["is_simulated"] is False

    stored = sandbox.get_payment_link(link["payment_id"])
    assert stored is not None and stored["currency"] == currency
    [line] = stored["line_items"]["data"]
    assert line["amount_total"] == total and line["description"] == "Bean There: 3 items"
    page = await _checkout_page(sandbox, link["url"])
    assert shown in page and "Bean There: 3 items" in page
    assert not BANNED.search(line["description"])

    assert pay_link(sandbox, link["url"], CARD_SUCCESS).outcome == "paid"
    with anyio.fail_after(30):
        read = await client.check_payment_status(link["payment_id"])
    assert (read.status, read.currency, read.provider) == ("succeeded", currency, "sandbox")
    paid = await _ok(toolset, "check_payment_status")
    said.append(paid)
    assert paid["payment_status"] == "succeeded" and paid["applied"] is True
    assert paid["amount_paid"] == shown and paid["provider"] == "sandbox"
    assert "balance" not in paid
    assert (await manager.get(SESSION)).tab_cents == 0
    said.append(await _ok(toolset, "get_bill"))
    for word in words_in(said):
        assert not BANNED.search(word), word


async def _checkout_page(sandbox: SandboxStore, url: str) -> str:
    app = build_checkout_app(sandbox)
    path = httpx.URL(url).path
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:9"
    ) as http:
        response = await http.get(path)
    assert response.status_code == 200
    return response.text


class _OtherCurrencyGateway:
    """Answers a paid status in US dollars, whatever the tab's currency."""

    provider = "stripe"

    def __init__(self) -> None:
        self.currency = ""

    async def create_payment_link(
        self,
        amount_cents: int,
        description: str,
        idempotency_key: str,
        *,
        currency: str,
        **options: Any,
    ) -> Any:
        self.currency = currency
        return _Link("plink_x", "https://buy.stripe.com/test_x", amount_cents, currency)

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        return True

    async def check_payment_status(self, payment_id: str) -> Any:
        return _Status("succeeded", 850, None, "usd")


class _Link:
    def __init__(self, payment_id: str, url: str, amount_cents: int, currency: str) -> None:
        self.payment_id, self.url, self.amount_cents = payment_id, url, amount_cents
        self.currency, self.is_simulated = currency, False


class _Status:
    def __init__(self, status: str, paid: int, reason: str | None, currency: str) -> None:
        self.status, self.amount_paid_cents, self.failure_reason = status, paid, reason
        self.currency = currency


async def test_a_payment_in_another_currency_is_refused_and_changes_nothing() -> None:
    gateway = _OtherCurrencyGateway()
    manager = TabManager(MemoryTabStore(), catalog=coffee_catalog())
    toolset = Toolset(manager=manager, payments=gateway, tools=CATALOG_TOOLS)
    await _ok(toolset, "order_item", {"name": "Flat white"})
    await _ok(toolset, "create_stripe_payment")
    assert gateway.currency == "eur"
    before = await manager.get(SESSION)
    refused = await toolset.call("check_payment_status", {}, SESSION)
    assert refused["error"] == "PAYMENT_CURRENCY_MISMATCH" and refused["retryable"] is False
    assert refused["paid_currency"] == "usd" and refused["currency"] == "eur"
    assert await manager.get(SESSION) == before


async def test_without_configuration_the_library_never_picks_the_sandbox(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="sandbox=True"):
        async with open_stripe_client(environ={}, cwd=tmp_path):
            pass


async def test_maya_require_stripe_refuses_the_sandbox(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="MAYA_REQUIRE_STRIPE"):
        async with open_stripe_client(
            environ={"MAYA_REQUIRE_STRIPE": "1"}, cwd=tmp_path, sandbox=True
        ):
            pass


def test_the_result_models_say_a_simulated_payment_is_not_succeeded() -> None:
    schema = PaymentCheckResult.model_json_schema()
    assert "simulated" in schema["properties"]["payment_status"]["enum"]
    assert set(RESULT_MODELS) >= {spec.name for spec in CATALOG_TOOLS}
    assert all(spec.result is RESULT_MODELS[spec.name] for spec in CATALOG_TOOLS)


async def test_a_shop_s_toolset_does_not_call_its_tools_payment_tools() -> None:
    toolset = Toolset(manager=TabManager(MemoryTabStore(), catalog=coffee_catalog()), payments=None)
    answer = await toolset.call("set_tip", {"percent": 10}, SESSION)
    assert answer["error"] == "UNKNOWN_TOOL"
    assert answer["message"] == "set_tip is not one of the tools here."
