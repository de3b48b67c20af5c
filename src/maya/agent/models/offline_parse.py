"""Reading a customer's message the way the offline model needs: intents and drink orders.

Rule-based and deliberately small; names come from the menu, prices never do.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from maya.bar.menu import Menu

__all__ = ["MAX_MESSAGE_CHARS", "DrinkOrder", "Intent", "parse_message"]

MAX_MESSAGE_CHARS = 2000
"""The longest message read (the web chat's default limit): a longer one is answered with a
request to say it shorter, so no message makes a turn's parsing, calls or reply grow
without bound (and a count's digits stay far below ``int``'s 4,300-digit limit)."""

_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
_TEENS += ["seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _number_words() -> dict[str, int]:
    """Every number word from one to ninety-nine ("twenty-one" and "twenty one" alike)."""
    words = {word: n for n, word in enumerate(_UNITS, start=1)}
    words.update({word: n for n, word in enumerate(_TEENS, start=10)})
    for tens, word in enumerate(_TENS, start=2):
        words[word] = tens * 10
        for unit, unit_word in enumerate(_UNITS, start=1):
            words[f"{word}-{unit_word}"] = tens * 10 + unit
            words[f"{word} {unit_word}"] = tens * 10 + unit
    return words


_NUMBERS: dict[str, int] = {
    **_number_words(),
    "a": 1,
    "an": 1,
    "another": 1,
    "single": 1,
    "couple": 2,
    "pair": 2,
    "double": 2,
    "dozen": 12,
}

# "two hundred", "a thousand", "one hundred and one": counts far past any order's limit,
# read whole so that they are refused as such, never ordered as "two" or "a" (one).
_SCALES: dict[str, int] = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}

_ALIASES: dict[str, str] = {
    "beer": "Tap Beer",
    "draft": "Tap Beer",
    "draught": "Tap Beer",
    "pint": "Tap Beer",
    "whisky": "Whiskey",
    "bourbon": "Whiskey",
    "scotch": "Whiskey",
    "coke": "Soda",
    "cola": "Soda",
    "tea": "Iced Tea",
    "cosmo": "Cosmopolitan",
    "long island iced tea": "Long Island",
    "old fashion": "Old Fashioned",
    "ipa": "IPA",
}

# One number: digits of any length ("1000", "1,000"; the tool's limit refuses it), or a
# number word.
_COUNT = r"\d+(?:,\d{3})*|" + "|".join(
    re.escape(w) for w in sorted([*_NUMBERS, *_SCALES], key=len, reverse=True)
)
_QUANTITY = re.compile(r"\b(" + _COUNT + r")\b")
# A count said in words, numbers in a row: "two hundred", "a hundred and one".
_COUNT_RUN = re.compile(
    r"\b(?:" + _COUNT + r")(?:(?:(?:(?<=hundred)|(?<=thousand)|(?<=million)|(?<=billion))"
    r"\s+and\s+|\s+|-)(?:" + _COUNT + r"))*\b"
)
# Not a separator: the comma of "1,000", the "and" of "a hundred and one".
_SEPARATOR = re.compile(
    r"(?<!\d),|,(?!\d{3}\b)|;|&|(?<!hundred )(?<!thousand )(?<!million )(?<!billion )\band\b"
    r"|\bplus\b|\bthen\b|\balso\b"
)
# A number that is not a count of drinks: negative ("-5", "minus two"), a fraction
# ("0.5", ".5"), an exponent ("1e3") or no number at all ("hundreds of beers"). Read as a
# count, each would be a wrong order.
_BAD_QUANTITY = re.compile(
    r"(?<![\w.])(?:-\s*\d|\d*\.\d|\d+e\d+\b|(?:minus|negative)\b)|\b\d+e\d+\b"
    r"|\b(?:dozens|hundreds|thousands|millions|billions)\b"
)
# The same before a tip's percentage: "a -20% tip", "minus 15 percent", "12.5%".
_BAD_PERCENT_LEAD = re.compile(r"(?:-\s*|\b(?:minus|negative)\s+|\d\.)$")

_STATUS = re.compile(
    r"\b(go(ne)? through|went through|did (it|that|the payment|my payment|my card) (work|go|clear)"
    r"|(have|has|did|is) (it|that|i|the payment|my payment) (been )?(paid|clear(ed)?)"
    r"|payment (has )?(cleared|clear)|(it|payment) cleared"
    r"|i('ve| have)? (just )?paid|is it paid|payment status|check (on )?(the |my )?(payment|status)"
    r"|status of)\b"
)
_PAY = re.compile(
    r"\b(pay|paying|check,? please|the check|settle( up)?|cash out|close (out )?(my )?tab"
    r"|payment link|link to pay|bill me)\b"
)
_REMOVE_TIP = re.compile(
    r"\b(remove|drop|cancel|take (off|away)|no|without( a| the)?|delete|forget)\b"
    r"[\w\s]{0,12}\btip\b"
    r"|\btip\b[\w\s]{0,12}\b(off|removed|gone)\b"
)
_TIP = re.compile(r"\btip\b|\bgratuity\b")
_PERCENT = re.compile(
    r"\b(\d{1,3}|ten|fifteen|twenty|five|twenty[- ]five|thirty)\s*(%|percent\b|per cent\b|pct\b)"
)
_BILL = re.compile(r"\b(owe|bill|tab|total|due|what('s| is) the damage|how much (do|did) i)\b")
_BALANCE = re.compile(
    r"\b(balance|money (do i have )?left|how much (do i have|have i got|is left)|funds)\b"
)
_MENU = re.compile(
    r"\b(menu|what (do|can) you|what can i (get|have|order)|what('s| is) (there|on tap|good)"
    r"|what drinks|options|do you (serve|have|offer))\b"
)
_PRICE = re.compile(r"\b(how much (is|are|does|do)|price|cost)\b")
_ORDER_CUE = re.compile(
    r"\b(i'?ll (have|take|get)|i'?d like(?! to)|i would like(?! to)|can i (get|have)"
    r"|could i (get|have)|give me|get me|bring me|let me (get|have)|order|i want(?! to)"
    r"|i'?ll go with|make (it|me)"
    r"|another|one more|round of)\b"
)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|howdy|evening|good (evening|afternoon|morning|night)|yo|hiya)\b"
)
_THANKS = re.compile(r"\b(thanks|thank you|cheers|ta)\b")
_BYE = re.compile(r"\b(bye|goodbye|good night|see you|later)\b")
_CANCEL = re.compile(
    r"\b(cancel|scratch|take back|take off|undo|void|forget|remove|drop)\b[\w\s']{0,24}?"
    r"\b(that|it|this|(the |my )?last (one|drink|order)|my (order|drink)"
    r"|(?P<generic>the (?P<thing>\w+)( \w+)?))\b"
    r"|\b(never ?mind|i changed my mind|take (it|that|this) (back|off))\b"
)
_DOUBLE = re.compile(
    r"\b(make (it|that|them|those|mine) (a )?doubles?|double (it|that|them|mine) up"
    r"|double (it|that|them|mine)|a double of (that|it))\b"
)
_SAME_AGAIN = re.compile(
    r"\b(same again|another round|same (as before|thing again|one again|again)"
    r"|one more of (those|the same|that)|repeat (that|my order|the order|the last order)"
    r"|(the )?same please|again,? please)\b"
)
_SPENDING = re.compile(
    r"\b(how much (have i|did i|i've|i have) (spent|spend|had)|what have i spent|spent so far"
    r"|my spending|how much (money )?(have i|did i) (run up|spend))\b"
)
_HISTORY = re.compile(
    r"\b(what (did|have) i (order(ed)?|had|have)|what i('ve| have)? (ordered|had)"
    r"|my order history|order history|what have i had|list (my|the) (drinks|orders))\b"
)
_CASH = re.compile(r"\b(cash|in coins|with coins|paper money|banknotes?)\b")
_SPIRIT = r"(gin|vodka|rum|whisk(?:e)?y|tequila|brandy|bourbon|scotch)"
_MIXER = (
    r"(tonic(?: water)?|soda(?: water)?|club soda|coke|cola|cranberry(?: juice)?|orange juice"
    r"|oj|juice|ginger ale|ginger beer|lemonade|sprite|lime(?: juice)?|red ?bull|tea)"
)
_MIXED = re.compile(
    r"\b(?P<spirit>" + _SPIRIT + r")\s*(?P<glue>and|&|n|with)?\s*(?P<mixer>" + _MIXER + r")s?\b"
)
_FILLER = re.compile(r"\b(please|pls|thanks|thank you|for me|right now|now|too|as well)\b")


@dataclass(frozen=True, slots=True)
class DrinkOrder:
    """One drink the customer asked for.

    Attributes:
        name: the menu name, or the customer's words for something not on the menu.
        quantity: how many (as said; the tool checks the limits).
        modifiers: modifiers as menu words.
    """

    name: str
    quantity: int = 1
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Intent:
    """What a message asks for; several can be set at once (order, then tip, then pay).

    The ``*_at`` fields are where in the message each request was made, so the calls go
    out in the order the customer said them.

    Attributes:
        orders: drinks to order.
        tip_percent: a tip to set.
        remove_tip: the customer wants the tip gone.
        tip_without_percent: a tip was mentioned but no percentage.
        pay: the customer wants to pay.
        status: the customer asks whether the payment went through.
        bill: what is owed.
        balance: what is left.
        menu: what is served.
        price_of: drinks whose price is asked.
        greeting, thanks, goodbye: small talk.
        cancel: take back the last order ("cancel that").
        cancel_name: the drink named in "cancel the IPA", if any.
        double: make the last drink a double.
        same_again: repeat the last round.
        spending: how much the customer has spent.
        history: what the customer has ordered.
        cash: the customer wants to pay in cash.
        mixed: mixed drinks asked for that are not on the menu ("gin and tonic").
        orders_at, tip_at, pay_at: positions in the message (-1 when absent).
        unclear_quantity: drinks asked for with a number that is no count of drinks
            ("0.5 martinis", "-5", "minus two", "1e3", "hundreds"): refused, never ordered.
        too_long: the message is longer than ``MAX_MESSAGE_CHARS``: not read at all.
    """

    orders: tuple[DrinkOrder, ...] = ()
    tip_percent: int | None = None
    remove_tip: bool = False
    tip_without_percent: bool = False
    pay: bool = False
    status: bool = False
    bill: bool = False
    balance: bool = False
    menu: bool = False
    price_of: tuple[str, ...] = ()
    greeting: bool = False
    thanks: bool = False
    goodbye: bool = False
    cancel: bool = False
    cancel_name: str | None = None
    double: bool = False
    same_again: bool = False
    spending: bool = False
    history: bool = False
    cash: bool = False
    mixed: tuple[str, ...] = ()
    orders_at: tuple[int, ...] = ()
    tip_at: int = -1
    pay_at: int = -1
    unclear_quantity: tuple[str, ...] = ()
    too_long: bool = False


def _normalize(text: str) -> str:
    text = text.casefold().replace("’", "'")
    return re.sub(r"[^\w%'&,;.?! -]", " ", text)


@functools.lru_cache(maxsize=8)
def _phrase_patterns(menu: Menu) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """Each phrase, its compiled pattern and the drink it names, longest first: built once
    per menu, not on every message (it was a third of a turn's CPU)."""
    return tuple(
        (phrase, re.compile(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])"), name)
        for phrase, name in _phrases(menu)
    )


@functools.lru_cache(maxsize=8)
def _modifier_patterns(menu: Menu) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each modifier and its compiled pattern, longest first, built once per menu."""
    return tuple(
        (modifier, re.compile(r"\b" + re.escape(modifier) + r"\b"))
        for modifier in sorted(menu.modifiers, key=len, reverse=True)
    )


def _phrases(menu: Menu) -> list[tuple[str, str]]:
    phrases: dict[str, str] = {}
    for item in menu.items:
        key = item.name.casefold()
        phrases[key] = item.name
        phrases[key + "s"] = item.name
        phrases[key + "es"] = item.name
        if key.endswith("y"):
            phrases[key[:-1] + "ies"] = item.name
    for alias, name in _ALIASES.items():
        if any(item.name == name for item in menu.items):
            phrases[alias] = name
            phrases[alias + "s"] = name
            if alias.endswith("y"):
                phrases[alias[:-1] + "ies"] = name
    return sorted(phrases.items(), key=lambda kv: len(kv[0]), reverse=True)


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    name: str
    quantity: int = 1
    modifiers: list[str] = field(default_factory=list)


def _mixed_name(match: re.Match[str]) -> str:
    """ "rum & cokes" -> "rum and coke"; "vodka soda" stays as it is."""
    glue = match["glue"]
    joint = " " if glue is None else " with " if glue == "with" else " and "
    return f"{match['spirit']}{joint}{match['mixer']}"


def _find_mentions(text: str, menu: Menu) -> list[_Mention]:
    taken = [False] * len(text)
    mentions: list[_Mention] = []
    # A mixed drink ("gin and tonic", "rum & coke") is one drink the bar does not pour,
    # not a Gin plus a word to ignore: it is ordered by its own name and refused by name.
    for match in _MIXED.finditer(text):
        for i in range(match.start(), match.end()):
            taken[i] = True
        mentions.append(_Mention(match.start(), match.end(), _mixed_name(match)))
    for phrase, pattern, name in _phrase_patterns(menu):
        if phrase not in text:
            continue
        for match in pattern.finditer(text):
            if any(taken[match.start() : match.end()]):
                continue
            for i in range(match.start(), match.end()):
                taken[i] = True
            mentions.append(_Mention(match.start(), match.end(), name))
    mentions.sort(key=lambda m: m.start)
    return mentions


def _modifiers_in(text: str, menu: Menu) -> list[str]:
    found: list[tuple[int, str]] = []
    used = [False] * len(text)
    for modifier, pattern in _modifier_patterns(menu):
        if modifier not in text:
            continue
        for match in pattern.finditer(text):
            if any(used[match.start() : match.end()]):
                continue
            for i in range(match.start(), match.end()):
                used[i] = True
            found.append((match.start(), modifier))
    return [modifier for _, modifier in sorted(found)]


def _quantity_in(text: str) -> int | None:
    runs = list(_COUNT_RUN.finditer(text))
    return _count_of(runs[-1].group()) if runs else None


def _count_of(run: str) -> int:
    """The count a run of numbers says: "two hundred and five" is 205; without a scale
    word the last number counts ("a dozen" is 12, "another two" is 2)."""
    words = [match.group(1) for match in _QUANTITY.finditer(run)]
    if not any(word in _SCALES for word in words):
        return _number_of(words[-1])
    total = current = 0
    for word in words:
        scale = _SCALES.get(word)
        if scale is None:
            current += _number_of(word)
        elif scale == 100:
            current = max(current, 1) * scale
        else:
            total, current = total + max(current, 1) * scale, 0
    return total + current


def _number_of(word: str) -> int:
    number = _NUMBERS.get(word)
    return number if number is not None else int(word.replace(",", ""))


def _merge_liquors(mentions: list[_Mention], text: str, menu: Menu) -> list[_Mention]:
    """'a gin martini' and 'a martini with gin': the spirit is the Martini's liquor."""
    takes_liquor = {item.name for item in menu.items if item.takes_liquor}
    liquors = set(menu.liquors)
    merged: list[_Mention] = []
    skip: set[int] = set()
    for index, mention in enumerate(mentions):
        if index in skip:
            continue
        nxt = mentions[index + 1] if index + 1 < len(mentions) else None
        between = text[mention.end : nxt.start] if nxt else ""
        glue = re.fullmatch(r"[\s\w]*", between) is not None and not _SEPARATOR.search(between)
        if (
            nxt is not None
            and mention.name.casefold() in liquors
            and nxt.name in takes_liquor
            and glue
        ):
            nxt.start = mention.start
            nxt.modifiers.append(mention.name.casefold())
            continue
        # "a martini with gin", and "a water with gin" too: the tool says which drinks
        # take a liquor, rather than the parser quietly ordering a Gin.
        if (
            nxt is not None
            and mention.name.casefold() not in liquors
            and nxt.name.casefold() in liquors
            and glue
            and "with" in between.split()
        ):
            mention.modifiers.append(nxt.name.casefold())
            mention.end = nxt.end
            skip.add(index + 1)
        merged.append(mention)
    return merged


def _parse_orders(text: str, menu: Menu) -> list[DrinkOrder]:
    return [order for _, order in _positioned_orders(text, menu)]


def _positioned_orders(text: str, menu: Menu) -> list[tuple[int, DrinkOrder]]:
    mentions = _merge_liquors(_find_mentions(text, menu), text, menu)
    if not mentions:
        return []
    previous_end = 0
    for index, mention in enumerate(mentions):
        region = text[previous_end : mention.start]
        separators = list(_SEPARATOR.finditer(region))
        cut = separators[-1].end() if separators else 0
        if index > 0 and cut:
            mentions[index - 1].modifiers.extend(_modifiers_in(region[:cut], menu))
        own = region[cut:]
        quantity = _quantity_in(own)
        mention.quantity = quantity if quantity is not None else 1
        if _BAD_QUANTITY.search(own):
            mention.quantity = 0  # no count of drinks: parse_message sets it apart
        mention.modifiers[:0] = _modifiers_in(own, menu)
        previous_end = mention.end
    mentions[-1].modifiers.extend(_modifiers_in(text[previous_end:], menu))
    orders: list[tuple[int, DrinkOrder]] = []
    for mention in mentions:
        modifiers = tuple(dict.fromkeys(m for m in mention.modifiers))
        orders.append((mention.start, DrinkOrder(mention.name, mention.quantity, modifiers)))
    return orders


def _clause(text: str, position: int) -> tuple[int, int]:
    """The stretch of ``text`` around ``position`` between two separators."""
    start, end = 0, len(text)
    for match in _SEPARATOR.finditer(text):
        if match.end() <= position:
            start = match.end()
        elif match.start() > position:
            end = match.start()
            break
    return start, end


def _unknown_order(text: str) -> DrinkOrder | None:
    cue = _ORDER_CUE.search(text)
    if cue is None:
        return None
    rest = _FILLER.sub(" ", text[cue.end() :]).lstrip()
    quantity = 1
    # The count is read before the split below: "0.5 widgets", "1,000 widgets" and "a
    # hundred and one widgets" hold a separator.
    if _BAD_QUANTITY.match(rest):
        quantity = 0  # no count of drinks: refused as unclear
        said = rest.split(maxsplit=2)
        rest = " ".join(said[2:] if said[0] in ("minus", "negative") else said[1:])
    elif (count := _COUNT_RUN.match(rest)) is not None:
        quantity = _count_of(count.group())
        rest = rest[count.end() :]
    words = re.split(r"[,;.?!]|\band\b", rest)[0].split()
    if words and words[0] in ("of", "more"):
        words = words[1:]
    name = " ".join(words[:3]).strip(" '")
    if not name or name in ("to", "it", "that", "this", "something", "a drink", "drink"):
        return None
    return DrinkOrder(name, quantity)


def _tip_percent(text: str) -> int | None:
    match = _PERCENT.search(text)
    if match is None:
        return None
    word = match.group(1).replace("-", " ")
    if word.isdigit():
        return int(word)
    return {"five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "twenty five": 25, "thirty": 30}[
        word
    ]


def _cancel(text: str, menu: Menu) -> tuple[bool, str | None]:
    """Whether ``text`` takes an order back, and the drink it names ("cancel the IPA")."""
    match = _CANCEL.search(text)
    if match is None:
        return False, None
    if match["generic"] is None:
        return True, None
    named = [o.name for o in _parse_orders(match["generic"], menu)]
    return True, named[0] if named else match["thing"]


def parse_message(message: str, menu: Menu) -> Intent:
    """What ``message`` asks for, read with ``menu``'s drink names and modifiers; a message
    longer than ``MAX_MESSAGE_CHARS`` is not read (``too_long``)."""
    if len(message) > MAX_MESSAGE_CHARS:
        return Intent(too_long=True)
    text = _normalize(message)
    if _STATUS.search(text):
        return Intent(status=True)
    remove_tip = _REMOVE_TIP.search(text) is not None
    if not remove_tip:
        if _DOUBLE.search(text):
            return Intent(double=True)
        cancel, cancel_name = _cancel(text, menu)
        if cancel:
            return Intent(cancel=True, cancel_name=cancel_name)
    if _SPENDING.search(text):
        return Intent(spending=True)
    if _HISTORY.search(text):
        return Intent(history=True)
    percent_match = None if remove_tip else _PERCENT.search(text)
    percent = None if remove_tip else _tip_percent(text)
    if percent_match is not None and _BAD_PERCENT_LEAD.search(text[: percent_match.start()]):
        percent_match, percent = None, None  # "-20%": asked which tip, never read as 20
    tip_mentioned = _TIP.search(text) is not None
    if percent is not None and not tip_mentioned and not re.search(r"\b(add|leave|make)\b", text):
        percent = None
    pay_match = _PAY.search(text)
    cash = _CASH.search(text) is not None
    pay = pay_match is not None or cash
    asks_price = _PRICE.search(text) is not None
    asks_bill = _BILL.search(text) is not None
    asks_balance = _BALANCE.search(text) is not None
    asks_menu = _MENU.search(text) is not None
    order_cue = _ORDER_CUE.search(text) is not None
    question_only = (asks_bill or asks_balance or asks_menu) and not order_cue
    positioned: list[tuple[int, DrinkOrder]] = []
    price_of: tuple[str, ...] = ()
    if asks_price and not order_cue:
        price_of = tuple(dict.fromkeys(o.name for o in _parse_orders(text, menu)))
    elif not question_only and not remove_tip:
        positioned = _positioned_orders(text, menu)
        if pay_match is not None:
            # "pay for the martinis" pays; "two beers, and let me pay" orders, then pays.
            a, b = _clause(text, pay_match.start())
            positioned = [(at, o) for at, o in positioned if not a <= at < b]
    same_again = not positioned and _SAME_AGAIN.search(text) is not None
    if not positioned and not same_again and order_cue and not pay and not price_of:
        unknown = _unknown_order(text) if percent is None else None
        if unknown is not None:
            positioned = [(0, unknown)]
    unclear = tuple(dict.fromkeys(order.name for _, order in positioned if order.quantity <= 0))
    positioned = [(at, order) for at, order in positioned if order.quantity > 0]
    orders = tuple(order for _, order in positioned)
    known = {item.name for item in menu.items}
    return Intent(
        orders=orders,
        tip_percent=percent,
        remove_tip=remove_tip,
        tip_without_percent=tip_mentioned and percent is None and not remove_tip,
        pay=pay,
        bill=asks_bill and not pay and not orders,
        balance=asks_balance,
        menu=(asks_menu or bool(price_of)) and not orders,
        price_of=price_of,
        greeting=_GREETING.search(text) is not None,
        thanks=_THANKS.search(text) is not None,
        goodbye=_BYE.search(text) is not None,
        same_again=same_again,
        cash=cash,
        mixed=tuple(
            dict.fromkeys(
                o.name for o in orders if o.name not in known and _MIXED.fullmatch(o.name)
            )
        ),
        orders_at=tuple(at for at, _ in positioned),
        tip_at=percent_match.start() if percent_match is not None and percent is not None else -1,
        pay_at=(pay_match.start() if pay_match is not None else len(text)) if pay else -1,
        unclear_quantity=unclear,
    )
