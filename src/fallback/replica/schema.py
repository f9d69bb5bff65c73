"""The canonical records the desk works from, and how a mapped value becomes a canonical one.

Every connector maps its source fields onto these (fallback.replica.mapping). Values are kept
as JSON: money and quantities as decimal strings ("12.50", never floats), dates as
"YYYY-MM-DD", times as ISO 8601 in UTC, flags as booleans, references to other records as the
other record's source key. Anything a source has that is none of these entities is kept as a
generic `record` with its fields as they came.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class ValueProblem(ValueError):
    """A source value that cannot become the canonical field's type; says what it got."""


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueProblem(f"expected text, got a {type(value).__name__}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number_text(text: str) -> str:
    """ "1,234.50", "1.234,50", "12,5" and "1 234,50" as a plain decimal: the separator that
    comes last is the decimal point, unless a lone comma is followed by exactly three digits."""
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    comma, dot = text.rfind(","), text.rfind(".")
    if comma == -1:
        return text
    if dot == -1:
        lone = text.count(",") == 1
        if lone and len(text) - comma - 1 != 3:
            return text.replace(",", ".")
        return text.replace(",", "")
    if comma > dot:
        return text.replace(".", "").replace(",", ".")
    return text.replace(",", "")


def _decimal(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueProblem(f"expected a number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float
    text = _number_text(value.strip()) if isinstance(value, str) else str(value)
    if text.count(".") > 1 or not text:
        raise ValueProblem(f"expected a number, got {value!r}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueProblem(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueProblem(f"expected a number, got {value!r}")
    return format(number.normalize(), "f") if number == number.to_integral() else str(number)


def _money(value: Any) -> str:
    text = value.strip().lstrip("$€£") if isinstance(value, str) else value
    number = Decimal(_decimal(text))
    # At least cents; more places are kept (unit prices of 0.0125 exist).
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    return str(number.quantize(Decimal("0.01"))) if places < 2 else str(number)


_TRUE = {"true", "yes", "y", "1", "t", "active", "enabled", "paid", "on"}
_FALSE = {"false", "no", "n", "0", "f", "inactive", "disabled", "archived", "unpaid", "off", ""}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(f"expected yes/no, got {value!r}")


def _parse_datetime(value: Any) -> datetime | date:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value  # epoch milliseconds or seconds
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip()
    if text.isdigit() and len(text) >= 10:
        return _parse_datetime(int(text))
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueProblem(f"expected an ISO 8601 date, got {value!r}") from None


def _date(value: Any) -> str:
    parsed = _parse_datetime(value)
    return (parsed.date() if isinstance(parsed, datetime) else parsed).isoformat()


def _datetime(value: Any) -> str:
    if type(value) is str and len(value) == 25 and value.endswith("+00:00") and value[10] == "T":
        try:  # the usual case, already UTC: checked, not rebuilt
            datetime.fromisoformat(value)
            return value[:19] + "Z"
        except ValueError:
            pass
    if type(value) is str and len(value) == 20 and value[-1] == "Z" and value[10] == "T":
        try:
            datetime.fromisoformat(value[:19])
            return value
        except ValueError:
            pass
    parsed = _parse_datetime(value)
    if not isinstance(parsed, datetime):
        return f"{parsed.isoformat()}T00:00:00Z"
    offset = parsed.utcoffset()
    if offset:  # cheaper than astimezone(UTC) for a fixed offset, and the same instant
        parsed = parsed - offset
    return parsed.replace(tzinfo=None).isoformat() + "Z"


COERCE: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "ref": _text,
    "number": _decimal,
    "money": _money,
    "flag": _flag,
    "date": _date,
    "datetime": _datetime,
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a key of COERCE, or "lines"
    label: str
    ref: str = ""  # the entity a "ref" field points to


LINE_FIELDS: tuple[Field, ...] = (
    Field("sku", "text", "SKU"),
    Field("description", "text", "Description"),
    Field("quantity", "number", "Quantity"),
    Field("unit", "text", "Unit"),
    Field("unit_price", "money", "Unit price"),
    Field("tax_rate", "number", "Tax rate %"),
    Field("amount", "money", "Amount"),
)


@dataclass(frozen=True)
class Entity:
    key: str
    label: str
    plural: str
    fields: tuple[Field, ...]
    title: str  # the field that names a record in lists

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _f(name: str, type_: str = "text", label: str = "", ref: str = "") -> Field:
    return Field(name, type_, label or name.replace("_", " ").capitalize(), ref)


_ADDRESS = (_f("address"), _f("city"), _f("region"), _f("postcode"), _f("country"))

ENTITIES: dict[str, Entity] = {
    e.key: e
    for e in (
        Entity(
            "customer",
            "Customer",
            "Customers",
            (
                _f("name"),
                _f("contact_name", label="Contact person"),
                _f("email"),
                _f("phone"),
                *_ADDRESS,
                _f("currency"),
                _f("balance", "money"),
                _f("tax_number", label="Tax number"),
                _f("notes"),
                _f("active", "flag"),
                _f("updated_at", "datetime", "Updated at source"),
            ),
            "name",
        ),
        Entity(
            "contact",
            "Contact",
            "Contacts",
            (
                _f("name"),
                _f("customer", "ref", ref="customer"),
                _f("supplier", "ref", ref="supplier"),
                _f("role"),
                _f("email"),
                _f("phone"),
                _f("notes"),
                _f("updated_at", "datetime", "Updated at source"),
            ),
            "name",
        ),
        Entity(
            "supplier",
            "Supplier",
            "Suppliers",
            (
                _f("name"),
                _f("contact_name", label="Contact person"),
                _f("email"),
                _f("phone"),
                _f("account_number", label="Our account number"),
                *_ADDRESS,
                _f("notes"),
                _f("active", "flag"),
                _f("updated_at", "datetime", "Updated at source"),
            ),
            "name",
        ),
        Entity(
            "product",
            "Product",
            "Products",
            (
                _f("sku", label="SKU"),
                _f("name"),
                _f("description"),
                _f("unit"),
                _f("price", "money"),
                _f("cost", "money"),
                _f("tax_rate", "number", "Tax rate %"),
                _f("currency"),
                _f("stock", "number"),
                _f("active", "flag"),
                _f("updated_at", "datetime", "Updated at source"),
            ),
            "name",
        ),
        Entity(
            "price_list",
            "Price-list entry",
            "Price lists",
            (
                _f("list", label="Price list"),
                _f("product", "ref", ref="product"),
                _f("sku", label="SKU"),
                _f("name"),
                _f("price", "money"),
                _f("currency"),
                _f("min_quantity", "number", "From quantity"),
                _f("updated_at", "datetime", "Updated at source"),
            ),
            "name",
        ),
        Entity(
            "order",
            "Order",
            "Orders",
            (
                _f("number"),
                _f("customer", "ref", ref="customer"),
                _f("customer_name", label="Customer"),
                _f("status"),
                _f("order_date", "date"),
                _f("due_date", "date"),
                _f("currency"),
                _f("subtotal", "money"),
                _f("tax", "money"),
                _f("total", "money"),
                Field("lines", "lines", "Lines"),
                _f("notes"),
                _f("updated_at", "datetime", "Updated at source"),
            ),
            "number",
        ),
        Entity(
            "invoice",
            "Invoice",
            "Invoices",
            (
                _f("number"),
                _f("customer", "ref", ref="customer"),
                _f("customer_name", label="Customer"),
                _f("status"),
                _f("issue_date", "date"),
                _f("due_date", "date"),
                _f("currency"),
                _f("subtotal", "money"),
                _f("tax", "money"),
                _f("total", "money"),
                _f("balance", "money", "Still owed"),
                _f("paid", "flag"),
                Field("lines", "lines", "Lines"),
                _f("updated_at", "datetime", "Updated at source"),
            ),
            "number",
        ),
        Entity("record", "Record", "Other records", (_f("name"),), "name"),
    )
}

GENERIC = "record"


def entity(key: str) -> Entity:
    try:
        return ENTITIES[key]
    except KeyError:
        known = ", ".join(ENTITIES)
        raise ValueError(f"unknown record type {key!r} (known: {known})") from None


def derive(entity_key: str, data: dict[str, Any]) -> None:
    """Fill what follows from mapped values when the source did not say it: an invoice with
    nothing still owed is paid; a subtotal is the total less the tax."""
    if entity_key not in ("order", "invoice"):
        return
    if (
        data.get("subtotal") is None
        and data.get("total") is not None
        and data.get("tax") is not None
    ):
        data["subtotal"] = str(Decimal(data["total"]) - Decimal(data["tax"]))
    if entity_key == "invoice" and data.get("paid") is None and data.get("balance") is not None:
        data["paid"] = Decimal(data["balance"]) == 0
