"""One small business, deterministic and generated on demand: the simulated cloud's data.

Hartley & Sons Plumbing Supplies (a UK trade supplier) has customers (plumbers, builders,
property managers), their contact people, suppliers, products, open and closed orders and
invoices. Nothing is stored: record number `i` of an entity is computed from `(seed, i)`
whenever it is asked for, so 100,000 customers cost no start-up time and little memory, and
two simulators with the same seed serve the same business (its times relative to each start).

- Ids are `index + 1`, the same in every dialect.
- Every record's `updated` time (epoch seconds) is a cheap function of its index, spread
  over the year before the simulator started and at least an hour before it, so "updated
  since T" filters skip records without generating them; a client that synced after the
  start and asks for changes since then gets exactly the records `change()` touched.
- `change(share, entity)` changes a visible field of that share of records (a phone number,
  an email, a price, an order's status…) and stamps them with the current time; the changes
  live in a small overrides dict, so changed records are served changed everywhere.
- Money is a string with two decimals, computed in whole pence (tax per line rounded half
  up with Decimal), so documents add up exactly.
- Email addresses are at `.test` domains and phone numbers in Ofcom's drama ranges, so the
  demo can never reach a real person.

The customers' balances and order counts are plausible figures of their own, not sums of
the invoices and orders served (those would cost generating them for every customer).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

DEFAULT_CUSTOMERS = 500
MAX_CUSTOMERS = 100_000
ENTITIES = ("customers", "contacts", "suppliers", "products", "orders", "invoices")
NAME = "Hartley & Sons Plumbing Supplies"
HOME_CURRENCY = "GBP"

MINUTE = 60
HOUR = 3600
DAY = 86400
YEAR = 365 * DAY
#: every record's generated times end this long before the simulator started
MARGIN = HOUR

_M64 = (1 << 64) - 1
_CENT = Decimal("0.01")


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of x."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def money(pence: int) -> str:
    """Whole pence as a string with two decimals: 1234 -> '12.34'."""
    sign = "-" if pence < 0 else ""
    whole, cents = divmod(abs(pence), 100)
    return f"{sign}{whole}.{cents:02d}"


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------- words

FIRST_NAMES = (
    "Aisha", "Alan", "Amelia", "Andrew", "Anna", "Ben", "Bethan", "Callum", "Carl", "Ceri",
    "Charlotte", "Chloé", "Ciarán", "Claire", "Daniel", "David", "Deepa", "Declan", "Eilidh",
    "Elaine", "Emma", "Fatima", "Fiona", "Gareth", "Gemma", "Graham", "Hannah", "Harpreet",
    "Ian", "Imran", "Jack", "James", "Jane", "Jason", "Joanne", "John", "Karen", "Kate",
    "Kwame", "Laura", "Lee", "Lucy", "Mark", "Martin", "Megan", "Mohammed", "Nadia", "Neil",
    "Niamh", "Nicola", "Oliver", "Paul", "Priya", "Rachel", "Rhys", "Richard", "Ryan",
    "Sandeep", "Sarah", "Seán", "Siân", "Simon", "Sophie", "Stephen", "Steven", "Tariq",
    "Tom", "Tomasz", "Victoria", "Wei", "Zoë", "Zofia",
)  # fmt: skip
SURNAMES = (
    "Adams", "Ahmed", "Ali", "Allen", "Armstrong", "Atkinson", "Bailey", "Baker", "Barnes",
    "Bell", "Bennett", "Brown", "Burke", "Campbell", "Carter", "Chapman", "Clarke", "Collins",
    "Cooper", "Cox", "Davies", "Dixon", "Doyle", "Edwards", "Ellis", "Evans", "Fisher",
    "Fletcher", "Foster", "Gallagher", "Gibson", "Graham", "Gray", "Green", "Griffiths",
    "Hall", "Harris", "Harrison", "Hill", "Holmes", "Hughes", "Hunt", "Hussain", "Jackson",
    "James", "Jenkins", "Johnson", "Jones", "Kaur", "Kelly", "Kennedy", "Khan", "King",
    "Knight", "Kowalski", "Lee", "Lewis", "Lloyd", "Marshall", "Martin", "Mason",
    "McDonald", "Mills", "Mitchell", "Moore", "Morgan", "Morris", "Murphy", "Murray",
    "Nowak", "O'Brien", "O'Connor", "Owen", "Palmer", "Parker", "Patel", "Pearson",
    "Phillips", "Powell", "Price", "Quinn", "Reid", "Reynolds", "Richards", "Roberts",
    "Robinson", "Rogers", "Russell", "Scott", "Shaw", "Singh", "Smith", "Stewart",
    "Taylor", "Thomas", "Thompson", "Turner", "Walker", "Walsh", "Ward", "Watson", "White",
    "Williams", "Wilson", "Wood", "Wright", "Young",
)  # fmt: skip
PLACES = (
    "Abbey", "Ashfield", "Beacon", "Birchwood", "Bridgewater", "Brookside", "Castle",
    "Cedar", "Clearwater", "Crown", "Eastgate", "Elmfield", "Fairway", "Fernhill", "Forge",
    "Foxglove", "Greenacre", "Harbour", "Hawthorn", "Heritage", "Highfield", "Hillcrest",
    "Ivy", "Kingfisher", "Lakeside", "Linden", "Maple", "Meadow", "Millbrook", "Northgate",
    "Oakwood", "Orchard", "Parkside", "Pennine", "Primrose", "Redwood", "Riverside",
    "Rosewood", "Southfield", "Springfield", "Stonebridge", "Summit", "Thornbury",
    "Trinity", "Valley", "Victoria", "Westbrook", "Willow", "Windmill", "Yew Tree",
)  # fmt: skip
TRADES = (
    "Plumbing", "Heating", "Plumbing and Heating", "Bathrooms", "Gas Services",
    "Property Maintenance", "Building Services", "Builders", "Developments",
    "Kitchens and Bathrooms", "Renewables", "Drainage", "Mechanical Services",
    "Facilities Management", "Homes", "Lettings", "Construction", "Interiors", "Boiler Care",
    "Maintenance", "Installations", "Energy", "Estates", "Joinery",
)  # fmt: skip
_COMPANY_FORMS = 4  # "{S} {T}", "{S} {T} Ltd", "{S} & Sons {T}", "{Place} {T}"
_COMPANY_COMBOS = len(SURNAMES) * len(TRADES) * _COMPANY_FORMS
JOB_TITLES = (
    "Director", "Owner", "Office Manager", "Contracts Manager", "Site Manager", "Buyer",
    "Accounts", "Operations Manager", "Estimator", "Heating Engineer", "Partner",
    "Facilities Manager", "Purchasing Manager", "Administrator",
)  # fmt: skip
STREETS = (
    "Station", "Church", "Mill", "Victoria", "Park", "High", "Queen", "King", "Albert",
    "Manor", "Chapel", "Bridge", "Green", "School", "York", "Mount", "Grove", "Market",
    "North", "Canal", "Tannery", "Foundry", "Wharf", "Commercial",
)  # fmt: skip
STREET_KINDS = ("Road", "Street", "Lane", "Avenue", "Way", "Close", "Terrace", "Parade")
ESTATES = (
    "Riverside Business Park", "Enterprise Way Industrial Estate", "Canalside Trading Estate",
    "Northgate Business Centre", "Phoenix Industrial Estate", "Meadowbank Works",
)  # fmt: skip
# (city, county, postcode area, phone prefix, weight); phone prefixes are Ofcom's drama
# ranges (each followed by three digits), so no generated number reaches a real line.
CITIES = (
    ("Leeds", "West Yorkshire", "LS", "+44 113 496 0", 8),
    ("Bradford", "West Yorkshire", "BD", "+44 1632 960", 4),
    ("Wakefield", "West Yorkshire", "WF", "+44 1632 960", 3),
    ("Huddersfield", "West Yorkshire", "HD", "+44 1632 960", 3),
    ("Harrogate", "North Yorkshire", "HG", "+44 1632 960", 2),
    ("York", "North Yorkshire", "YO", "+44 1632 960", 3),
    ("Sheffield", "South Yorkshire", "S", "+44 114 496 0", 6),
    ("Manchester", "Greater Manchester", "M", "+44 161 496 0", 7),
    ("Stockport", "Greater Manchester", "SK", "+44 161 496 0", 2),
    ("Liverpool", "Merseyside", "L", "+44 151 496 0", 4),
    ("Newcastle upon Tyne", "Tyne and Wear", "NE", "+44 191 498 0", 3),
    ("Nottingham", "Nottinghamshire", "NG", "+44 115 496 0", 3),
    ("Leicester", "Leicestershire", "LE", "+44 116 496 0", 2),
    ("Birmingham", "West Midlands", "B", "+44 121 496 0", 4),
    ("Bristol", "Bristol", "BS", "+44 117 496 0", 2),
    ("Reading", "Berkshire", "RG", "+44 118 496 0", 1),
    ("London", "Greater London", "SE", "+44 20 7946 0", 3),
    ("Cardiff", "South Glamorgan", "CF", "+44 29 2018 0", 1),
    ("Edinburgh", "City of Edinburgh", "EH", "+44 131 496 0", 1),
    ("Glasgow", "Glasgow City", "G", "+44 141 496 0", 1),
    ("Belfast", "County Antrim", "BT", "+44 28 9649 6", 1),
    ("Dublin", "County Dublin", "D", "+44 7700 900", 2),
    ("Cork", "County Cork", "T", "+44 7700 900", 1),
)  # fmt: skip
_CITY_WHEEL = tuple(n for n, city in enumerate(CITIES) for _ in range(city[4]))
_IRISH = {"Dublin", "Cork"}
_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
MOBILE_PREFIX = "+44 7700 900"
NOTES = (
    "", "", "", "", "Trade account, 30 days.", "Prefers delivery before 8am.",
    "Collects from the trade counter.", "Call before delivering: no parking on site.",
    "Account on hold if over 60 days.", "Order number required on every invoice.",
)  # fmt: skip
TAGS = ("trade", "trade, account", "account", "trade, key account", "retail", "")

# Suppliers: brand stem x kind, unique up to 240.
SUPPLIER_STEMS = (
    "Aquaflow", "Thermex", "Northern", "Castleford", "Pennine", "Brassworks", "Calder",
    "Kestrel", "Hydrotec", "Albion", "Britannia", "Clearline", "Dales", "Heatwave",
    "Ironbridge", "Lune", "Marsden", "Orwell", "Pemberton", "Redfern", "Severn", "Tern",
    "Valour", "Wharfedale", "Crestmoor", "Glenholm", "Hallam", "Norbury", "Sterling",
    "Tamar", "Ashby", "Beckett", "Corran", "Derwent", "Emblem", "Fenwick", "Garrick",
    "Holloway", "Ingram", "Jarrow",
)  # fmt: skip
SUPPLIER_KINDS = (
    "Valves Ltd", "Tube Co", "Heating Supplies", "Bathrooms UK", "Distribution Ltd",
    "Trade Supplies",
)  # fmt: skip

# Products: (category code, category, item, unit, price range in pence, kg, sizes, tax %)
CATALOGUE: tuple[tuple[str, str, str, str, int, int, float, tuple[str, ...], str], ...] = (
    ("PIP", "Pipe", "Copper Pipe", "length", 900, 4800, 1.4,
     ("15mm x 3m", "22mm x 3m", "28mm x 3m", "15mm x 2m", "22mm x 2m"), "20.00"),
    ("PIP", "Pipe", "Push-fit Barrier Pipe", "coil", 2200, 9500, 3.0,
     ("10mm x 50m", "15mm x 25m", "22mm x 25m"), "20.00"),
    ("PIP", "Pipe", "MDPE Water Pipe", "coil", 2500, 12000, 6.0,
     ("20mm x 25m", "25mm x 50m", "32mm x 25m"), "20.00"),
    ("PIP", "Pipe", "Solvent Weld Waste Pipe", "length", 450, 1400, 1.1,
     ("32mm x 3m", "40mm x 3m", "50mm x 3m"), "20.00"),
    ("PIP", "Pipe", "Soil Pipe", "length", 1600, 3200, 4.2, ("110mm x 3m", "110mm x 2.5m"),
     "20.00"),
    ("FIT", "Fittings", "Compression Elbow", "each", 120, 650, 0.1, ("15mm", "22mm", "28mm"),
     "20.00"),
    ("FIT", "Fittings", "Compression Tee", "each", 180, 900, 0.15, ("15mm", "22mm", "28mm"),
     "20.00"),
    ("FIT", "Fittings", "Straight Coupler", "each", 90, 480, 0.08, ("15mm", "22mm", "28mm"),
     "20.00"),
    ("FIT", "Fittings", "End Feed Elbow", "pack of 10", 350, 1500, 0.3,
     ("15mm", "22mm", "28mm"), "20.00"),
    ("FIT", "Fittings", "End Feed Tee", "pack of 10", 600, 2400, 0.4, ("15mm", "22mm", "28mm"),
     "20.00"),
    ("FIT", "Fittings", "Push-fit Elbow", "each", 150, 700, 0.05, ("10mm", "15mm", "22mm"),
     "20.00"),
    ("FIT", "Fittings", "Push-fit Tee", "each", 220, 950, 0.07, ("10mm", "15mm", "22mm"),
     "20.00"),
    ("FIT", "Fittings", "Tank Connector", "each", 300, 1100, 0.2, ("15mm", "22mm", "28mm"),
     "20.00"),
    ("FIT", "Fittings", "Reducing Coupler", "each", 180, 800, 0.1,
     ("22mm x 15mm", "28mm x 22mm"), "20.00"),
    ("FIT", "Fittings", "Stop End", "each", 90, 400, 0.05, ("15mm", "22mm", "28mm"), "20.00"),
    ("VAL", "Valves", "Isolating Valve", "each", 250, 900, 0.15, ("15mm", "22mm"), "20.00"),
    ("VAL", "Valves", "Gate Valve", "each", 700, 2400, 0.5, ("15mm", "22mm", "28mm"), "20.00"),
    ("VAL", "Valves", "Lever Ball Valve", "each", 650, 2200, 0.4, ("15mm", "22mm", "28mm"),
     "20.00"),
    ("VAL", "Valves", "Double Check Valve", "each", 600, 1800, 0.3, ("15mm", "22mm"), "20.00"),
    ("VAL", "Valves", "Thermostatic Radiator Valve", "each", 1100, 3500, 0.4,
     ("15mm Angled", "15mm Straight", "10mm Angled"), "20.00"),
    ("VAL", "Valves", "Lockshield Valve", "each", 450, 1200, 0.3, ("15mm", "10mm"), "20.00"),
    ("VAL", "Valves", "Stopcock", "each", 500, 1600, 0.35, ("15mm", "22mm"), "20.00"),
    ("VAL", "Valves", "Pressure Reducing Valve", "each", 3200, 8500, 0.9, ("15mm", "22mm"),
     "20.00"),
    ("HEA", "Heating", "Compact Radiator Type 22", "each", 6500, 21000, 18.0,
     ("600 x 400mm", "600 x 800mm", "600 x 1000mm", "600 x 1200mm", "300 x 1600mm"),
     "20.00"),
    ("HEA", "Heating", "Ladder Towel Rail", "each", 5500, 16000, 8.0,
     ("500 x 800mm Chrome", "500 x 1200mm White", "600 x 1600mm Anthracite"), "20.00"),
    ("HEA", "Heating", "Expansion Vessel", "each", 2400, 7500, 4.0,
     ("8 L", "12 L", "18 L", "24 L"), "20.00"),
    ("HEA", "Heating", "Magnetic System Filter", "each", 6500, 13500, 1.2, ("22mm", "28mm"),
     "20.00"),
    ("HEA", "Heating", "Central Heating Pump", "each", 9500, 24000, 3.0,
     ("6 m head", "7 m head"), "20.00"),
    ("HEA", "Heating", "Motorised Zone Valve", "each", 4500, 11000, 1.1,
     ("22mm 2-port", "28mm 2-port", "22mm 3-port"), "20.00"),
    ("HEA", "Heating", "Room Thermostat", "each", 2500, 14000, 0.3,
     ("Digital", "Wireless", "Programmable"), "20.00"),
    ("BAT", "Bathroom", "Basin Mixer Tap", "each", 3500, 14500, 1.5,
     ("Chrome", "Matt Black", "Brushed Brass"), "20.00"),
    ("BAT", "Bathroom", "Bath Filler Tap", "each", 4500, 16000, 2.0, ("Chrome", "Matt Black"),
     "20.00"),
    ("BAT", "Bathroom", "Thermostatic Bar Shower", "each", 8500, 26000, 3.5,
     ("Chrome", "Matt Black"), "20.00"),
    ("BAT", "Bathroom", "Close-coupled WC", "each", 12000, 32000, 28.0,
     ("Standard", "Comfort Height"), "20.00"),
    ("BAT", "Bathroom", "Pedestal Basin", "each", 5500, 14000, 16.0,
     ("500mm", "550mm", "600mm"), "20.00"),
    ("BAT", "Bathroom", "Shower Tray", "each", 9500, 28000, 30.0,
     ("800 x 800mm", "900 x 900mm", "1200 x 800mm", "1400 x 900mm"), "20.00"),
    ("BAT", "Bathroom", "Basin Trap", "each", 300, 1200, 0.2, ("32mm", "40mm"), "20.00"),
    ("BAT", "Bathroom", "Flexible Tap Connector", "each", 250, 900, 0.1,
     ("15mm x 300mm", "15mm x 500mm"), "20.00"),
    ("CON", "Consumables", "PTFE Tape", "pack of 10", 300, 900, 0.1, ("12mm x 12m",), "20.00"),
    ("CON", "Consumables", "Jointing Compound", "tub", 450, 1200, 0.4, ("400 g",), "20.00"),
    ("CON", "Consumables", "Lead-free Solder", "reel", 1800, 4200, 0.5, ("500 g",), "20.00"),
    ("CON", "Consumables", "Flux Paste", "tub", 400, 1200, 0.2, ("100 g", "250 g"), "20.00"),
    ("CON", "Consumables", "Silicone Sealant", "tube", 450, 1100, 0.3, ("Clear", "White"),
     "20.00"),
    ("CON", "Consumables", "Pipe Clip", "bag", 300, 1500, 0.5,
     ("15mm, 100 pack", "22mm, 50 pack"), "20.00"),
    ("CON", "Consumables", "Pipe Insulation", "length", 150, 600, 0.1,
     ("15mm x 1m", "22mm x 1m"), "0.00"),
    ("CON", "Consumables", "Central Heating Inhibitor", "bottle", 1200, 2800, 1.1, ("1 L",),
     "20.00"),
    ("TOO", "Tools", "Pipe Cutter", "each", 900, 3200, 0.3, ("15mm", "15-22mm", "Slice 22mm"),
     "20.00"),
    ("TOO", "Tools", "Adjustable Spanner", "each", 1200, 3800, 0.4, ("250mm", "300mm"),
     "20.00"),
    ("TOO", "Tools", "Pipe Bender", "each", 4500, 9800, 3.0, ("15/22mm",), "20.00"),
    ("TOO", "Tools", "Blowtorch", "each", 3500, 8500, 0.8, ("Self-igniting",), "20.00"),
    ("TOO", "Tools", "Water Pump Pliers", "each", 1200, 2900, 0.4, ("250mm",), "20.00"),
    ("SRV", "Services", "Delivery Charge", "each", 500, 2500, 0.0, ("Local", "National"),
     "20.00"),
)  # fmt: skip
_PRODUCT_COMBOS = tuple((n, size) for n, item in enumerate(CATALOGUE) for size in item[7])


def _slug(text: str) -> str:
    out = []
    for ch in text.lower().replace("&", "and"):
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


_ASCII = str.maketrans("áâàäéèêëíîïóôöúûüçñłńśźżŁŚŻ", "aaaaeeeeiiiooouuucnlnszzLSZ")


def _local(first: str, last: str) -> str:
    """The local part of a person's email address: 'sian.obrien'."""
    text = f"{first}.{last}".lower().translate(_ASCII)
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch == "."))


# Computed once: the email and domain forms of the words names are made of.
_FIRST_LOCAL = tuple(_local(name, "")[:-1] for name in FIRST_NAMES)
_SURNAME_LOCAL = tuple(_local("", name)[1:] for name in SURNAMES)
_SURNAME_SLUG = tuple(_slug(name) for name in SURNAMES)
_PLACE_SLUG = tuple(_slug(name) for name in PLACES)
_TRADE_SLUG = tuple(_slug(name) for name in TRADES)
_CITY_SLUG = tuple(_slug(city[0]) for city in CITIES)


# --------------------------------------------------------------------------- times

# Times are formatted a million times a listing, so without datetime: each day's date is
# computed once, hours, minutes and seconds come from tables, and the UK's summer time
# (01:00 UTC on the last Sunday of March to the last Sunday of October, the rule since
# 1996) from its rule.
_HH = tuple(f"{h:02d}:" for h in range(24))
_MMSS = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))
_AVERAGE_YEAR = 31_556_952
_DATES_KEPT = 100_000
_dates: dict[int, str] = {}
_summers: dict[int, tuple[int, int]] = {}


def _date(day: int) -> str:
    """'YYYY-MM-DD' of a day number (days since 1970-01-01)."""
    text = _dates.get(day)
    if text is None:
        if len(_dates) >= _DATES_KEPT:
            _dates.clear()
        text = _dates[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
    return text


def _last_sunday_1am(year: int, month: int) -> int:
    last = date(year, month, 31)
    sunday = last - timedelta(days=(last.weekday() + 1) % 7)
    return int(datetime(sunday.year, sunday.month, sunday.day, 1, tzinfo=UTC).timestamp())


def _uk_offset(t: int) -> int:
    """The UK's offset from UTC at instant t: 0 or an hour."""
    year = 1970 + t // _AVERAGE_YEAR  # may be a day off at new year, far from the changes
    summer = _summers.get(year)
    if summer is None:
        summer = _summers[year] = (_last_sunday_1am(year, 3), _last_sunday_1am(year, 10))
    return HOUR if summer[0] <= t < summer[1] else 0


def iso_utc(t: int) -> str:
    """'2025-03-01T09:30:00Z'."""
    day, sec = divmod(t, DAY)
    return f"{_date(day)}T{_HH[sec // HOUR]}{_MMSS[sec % HOUR]}Z"


def iso_utc_ms(t: int) -> str:
    """'2025-03-01T09:30:00.000Z', as HubSpot writes times."""
    day, sec = divmod(t, DAY)
    return f"{_date(day)}T{_HH[sec // HOUR]}{_MMSS[sec % HOUR]}.000Z"


def iso_local(t: int) -> str:
    """UK local time with its offset: '2025-07-01T10:30:00+01:00' (Shopify, QuickBooks)."""
    offset = _uk_offset(t)
    day, sec = divmod(t + offset, DAY)
    zone = "+01:00" if offset else "+00:00"
    return f"{_date(day)}T{_HH[sec // HOUR]}{_MMSS[sec % HOUR]}{zone}"


def iso_date(t: int) -> str:
    """The UK calendar date of an instant: '2025-07-01'."""
    return _date((t + _uk_offset(t)) // DAY)


def parse_time(text: str) -> float:
    """ISO 8601 (with an offset or Z; naive means UTC), a date, or epoch milliseconds."""
    text = text.strip()
    if text.isdigit():
        return int(text) / 1000
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# ------------------------------------------------------------------------- records


@dataclass(slots=True)
class Customer:
    index: int
    id: int
    company: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address1: str
    address2: str
    city: str
    region: str
    postcode: str
    country: str  # ISO 3166 alpha-2
    country_name: str
    currency: str
    balance: str
    orders_count: int
    total_spent: str
    note: str
    tags: str
    domain: str
    active: bool
    created: int
    updated: int
    version: int = 0


@dataclass(slots=True)
class Contact:
    index: int
    id: int
    customer_id: int
    company: str
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str
    primary: bool
    created: int
    updated: int
    version: int = 0


@dataclass(slots=True)
class Supplier:
    index: int
    id: int
    company: str
    first_name: str
    last_name: str
    email: str
    phone: str
    account_number: str
    address1: str
    city: str
    region: str
    postcode: str
    country: str
    country_name: str
    currency: str
    domain: str
    active: bool
    created: int
    updated: int
    version: int = 0


@dataclass(slots=True)
class Product:
    index: int
    id: int
    sku: str
    name: str
    category: str
    unit: str
    description: str
    price: str
    compare_at_price: str | None
    cost: str
    tax_rate: str  # percent, "20.00"
    active: bool
    quantity: int
    weight: float  # kg
    supplier_id: int
    supplier: str
    created: int
    updated: int
    version: int = 0

    @property
    def taxable(self) -> bool:
        return self.tax_rate != "0.00"


@dataclass(slots=True)
class Line:
    number: int
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: str
    amount: str
    tax: str


@dataclass(slots=True)
class Order:
    index: int
    id: int
    number: int  # 1001, 1002…
    customer_id: int
    customer_company: str
    customer_first_name: str
    customer_last_name: str
    customer_email: str
    currency: str
    status: str  # "open" or "closed"
    financial_status: str  # "pending", "paid", "partially_paid"
    fulfillment_status: str | None  # None or "fulfilled"
    due_date: str
    lines: tuple[Line, ...]
    subtotal: str
    tax: str
    total: str
    note: str
    created: int
    closed: int | None
    updated: int
    version: int = 0


@dataclass(slots=True)
class Invoice:
    index: int
    id: int
    number: str  # "INV-10001"
    customer_id: int
    customer_company: str
    customer_email: str
    currency: str
    date: str
    due_date: str
    lines: tuple[Line, ...]
    subtotal: str
    tax: str
    total: str
    balance: str
    paid: bool
    note: str
    created: int
    updated: int
    version: int = 0


Record = Customer | Contact | Supplier | Product | Order | Invoice
# (sku, name, category, unit, price in pence, tax rate, weight in kg)
_ProductCore = tuple[str, str, str, str, int, str, float]

# Contacts: customers come in groups of five with 2, 1, 1, 2 and 1 contact people.
_CONTACTS_PER = (2, 1, 1, 2, 1)
_CONTACT_OWNER = tuple((c, k) for c, count in enumerate(_CONTACTS_PER) for k in range(count))
_FIRST_CONTACT = tuple(sum(_CONTACTS_PER[:c]) for c in range(len(_CONTACTS_PER)))
_GROUP = len(_CONTACTS_PER)
_GROUP_CONTACTS = sum(_CONTACTS_PER)


def scaled_counts(customers: int) -> dict[str, int]:
    """How many records of each entity a business with this many customers has."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,} (got {customers})")
    whole, rest = divmod(customers, _GROUP)
    return {
        "customers": customers,
        "contacts": whole * _GROUP_CONTACTS + sum(_CONTACTS_PER[:rest]),
        "suppliers": min(200, max(30, round(customers * 30 / DEFAULT_CUSTOMERS))),
        "products": max(1, round(customers * 200 / DEFAULT_CUSTOMERS)),
        "orders": max(1, round(customers * 400 / DEFAULT_CUSTOMERS)),
        "invoices": max(1, round(customers * 600 / DEFAULT_CUSTOMERS)),
    }


class Business:
    """The simulated business: records by index, computed on demand, plus the changes made.

    `now` (epoch seconds) pins the clock the generated times are relative to (default: the
    moment it is created, which is when the simulator starts).
    """

    def __init__(
        self, customers: int = DEFAULT_CUSTOMERS, seed: int = 1, now: float | None = None
    ) -> None:
        self.counts = scaled_counts(customers)
        self.seed = seed
        self.started = int(time.time() if now is None else now)
        #: no generated time is later than this: filters from here on see only changes
        self.horizon = self.started - MARGIN
        self._salt = {e: _mix(seed * 1_000_003 + n) << 24 for n, e in enumerate(ENTITIES)}
        self._time_salt = {e: _mix(salt ^ 0x5DEECE66D) for e, salt in self._salt.items()}
        self._company_offset = _mix(seed) % _COMPANY_COMBOS
        self._product_core = lru_cache(maxsize=8192)(self._make_product_core)
        self._overrides: dict[str, dict[int, tuple[int, int, dict[str, Any]]]] = {
            e: {} for e in ENTITIES
        }
        self._changed_sorted: dict[str, list[int] | None] = {e: [] for e in ENTITIES}
        self._changes = 0
        self._matching_cache: dict[tuple[str, float, bool, int], list[int]] = {}
        self._makers: dict[str, Callable[[int], Any]] = {
            "customers": self._customer,
            "contacts": self._contact,
            "suppliers": self._supplier,
            "products": self._product,
            "orders": self._order,
            "invoices": self._invoice,
        }
        self._base_updated: dict[str, Callable[[int], int]] = {
            "customers": self._spread_updated("customers"),
            "contacts": self._spread_updated("contacts"),
            "suppliers": self._spread_updated("suppliers"),
            "products": self._spread_updated("products"),
            "orders": self._order_updated,
            "invoices": self._invoice_updated,
        }

    # ----------------------------------------------------------------- public

    @property
    def customers(self) -> int:
        return self.counts["customers"]

    def count(self, entity: str) -> int:
        return self.counts[self._entity(entity)]

    def get(self, entity: str, index: int) -> Any:
        """Record `index` (0-based; its id is index + 1), with any change applied."""
        entity = self._entity(entity)
        if not 0 <= index < self.counts[entity]:
            raise IndexError(f"no {entity} record {index}")
        record = self._makers[entity](index)
        override = self._overrides[entity].get(index)
        if override is not None:
            updated, version, fields = override
            record = dataclasses.replace(record, updated=updated, version=version, **fields)
        return record

    def version(self, entity: str, index: int) -> int:
        """How many times record `index` was changed (0: as generated), without making it."""
        override = self._overrides[self._entity(entity)].get(index)
        return override[1] if override is not None else 0

    def records(self, entity: str, indexes: Sequence[int]) -> list[Any]:
        """Records by index (each as `get` gives it), for a page of a listing."""
        entity = self._entity(entity)
        make, overrides = self._makers[entity], self._overrides[entity]
        if not overrides:
            return [make(i) for i in indexes]
        return [self.get(entity, i) if i in overrides else make(i) for i in indexes]

    def customer(self, index: int) -> Customer:
        record: Customer = self.get("customers", index)
        return record

    def contact(self, index: int) -> Contact:
        record: Contact = self.get("contacts", index)
        return record

    def supplier(self, index: int) -> Supplier:
        record: Supplier = self.get("suppliers", index)
        return record

    def product(self, index: int) -> Product:
        record: Product = self.get("products", index)
        return record

    def order(self, index: int) -> Order:
        record: Order = self.get("orders", index)
        return record

    def invoice(self, index: int) -> Invoice:
        record: Invoice = self.get("invoices", index)
        return record

    def updated(self, entity: str, index: int) -> int:
        """A record's last update (epoch seconds), without generating it."""
        override = self._overrides[entity].get(index)
        return override[0] if override is not None else self._base_updated[entity](index)

    def changed(self, entity: str) -> list[int]:
        """The indexes of the records changed so far, in order."""
        entity = self._entity(entity)
        cached = self._changed_sorted[entity]
        if cached is None:
            cached = self._changed_sorted[entity] = sorted(self._overrides[entity])
        return cached

    def after(
        self,
        entity: str,
        after: int,
        limit: int,
        since: float | None = None,
        strict: bool = False,
    ) -> tuple[list[int], bool]:
        """Up to `limit` indexes above `after` (ascending) updated since `since` (at or after;
        strictly after when `strict`), and whether more follow."""
        entity = self._entity(entity)
        n = self.counts[entity]
        start = max(after + 1, 0)
        if since is None:
            end = min(n, start + limit)
            return list(range(start, end)), end < n
        if self._only_changes(since, strict):
            changed = self.changed(entity)
            found = [
                i
                for i in changed[bisect.bisect_left(changed, start) :]
                if self._newer(self._overrides[entity][i][0], since, strict)
            ]
            return found[:limit], len(found) > limit
        found = []
        updated = self.updated
        for i in range(start, n):
            if self._newer(updated(entity, i), since, strict):
                if len(found) == limit:
                    return found, True
                found.append(i)
        return found, False

    def before(
        self,
        entity: str,
        before: int,
        limit: int,
        since: float | None = None,
        strict: bool = False,
    ) -> tuple[list[int], bool]:
        """Up to `limit` indexes just below `before` (ascending), and whether more precede."""
        entity = self._entity(entity)
        end = min(before, self.counts[entity])
        if since is None:
            start = max(0, end - limit)
            return list(range(start, end)), start > 0
        if self._only_changes(since, strict):
            changed = self.changed(entity)
            found = [
                i
                for i in changed[: bisect.bisect_left(changed, end)]
                if self._newer(self._overrides[entity][i][0], since, strict)
            ]
            return found[-limit:] if limit else [], len(found) > limit
        found = []
        for i in range(end - 1, -1, -1):
            if self._newer(self.updated(entity, i), since, strict):
                if len(found) == limit:
                    return found[::-1], True
                found.append(i)
        return found[::-1], False

    def matching(self, entity: str, since: float | None, strict: bool = False) -> Sequence[int]:
        """Every index updated since `since`, ascending (for offset-based paging)."""
        entity = self._entity(entity)
        if since is None:
            return range(self.counts[entity])
        if self._only_changes(since, strict):
            return [
                i
                for i in self.changed(entity)
                if self._newer(self._overrides[entity][i][0], since, strict)
            ]
        key = (entity, since, strict, self._changes)
        found = self._matching_cache.get(key)
        if found is None:
            found = self.after(entity, -1, self.counts[entity], since, strict)[0]
            if len(self._matching_cache) >= 8:
                self._matching_cache.pop(next(iter(self._matching_cache)))
            self._matching_cache[key] = found
        return found

    def change(self, share: float, entity: str = "customers", now: float | None = None) -> int:
        """Change a visible field of `share` of the entity's records (at least one), stamping
        them with `now`; returns how many were changed."""
        entity = self._entity(entity)
        if not 0 < share <= 1:
            raise ValueError(f"share must be more than 0 and at most 1 (got {share})")
        n = self.counts[entity]
        self._changes += 1
        rng = random.Random(f"{self.seed}:{entity}:{self._changes}")  # noqa: S311 (not secret)
        picked = rng.sample(range(n), max(1, min(n, round(n * share))))
        # rounded up: a change made in the second a client last synced is still after it
        stamp = math.ceil(time.time() if now is None else now)
        overrides = self._overrides[entity]
        for index in picked:
            current = self.get(entity, index)
            fields = dict(overrides[index][2]) if index in overrides else {}
            fields.update(self._changed_fields(entity, current, rng, stamp))
            overrides[index] = (stamp, current.version + 1, fields)
        self._changed_sorted[entity] = None
        self._matching_cache.clear()
        return len(picked)

    def describe(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "seed": self.seed,
            "counts": dict(self.counts),
            "changed": {e: len(self._overrides[e]) for e in ENTITIES},
            "started": iso_utc(self.started),
        }

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _entity(entity: str) -> str:
        if entity not in ENTITIES:
            raise ValueError(f"entity must be one of {', '.join(ENTITIES)} (got {entity!r})")
        return entity

    def _only_changes(self, since: float, strict: bool) -> bool:
        return since > self.horizon or (strict and since >= self.horizon)

    @staticmethod
    def _newer(updated: int, since: float, strict: bool) -> bool:
        return updated > since if strict else updated >= since

    def _spread_updated(self, entity: str) -> Callable[[int], int]:
        salt = self._time_salt[entity]
        horizon = self.horizon

        def updated(index: int) -> int:
            return horizon - _mix(salt + index) % YEAR

        return updated

    def _changed_fields(
        self, entity: str, record: Any, rng: random.Random, stamp: int
    ) -> dict[str, Any]:
        if entity == "customers":
            fields: dict[str, Any] = {"phone": _other_number(record.phone, rng)}
            if rng.random() < 0.3:
                fields["email"] = f"accounts@{record.domain}"
                if fields["email"] == record.email:
                    fields["email"] = f"office@{record.domain}"
            return fields
        if entity in ("contacts", "suppliers"):
            return {"phone": _other_number(record.phone, rng)}
        if entity == "products":
            pence = round(Decimal(record.price) * 100)
            rise = max(1, round(pence * rng.uniform(0.03, 0.12)))
            return {"price": money(pence + rise)}
        if entity == "orders":
            if record.status == "open":
                return {
                    "status": "closed",
                    "financial_status": "paid",
                    "fulfillment_status": "fulfilled",
                    "closed": stamp,
                }
            return {"note": "Customer queried the delivery; resolved."}
        # invoices
        if not record.paid:
            return {"balance": "0.00", "paid": True}
        return {"note": "Remittance advice received."}

    # --------------------------------------------------------------- companies

    def _company(self, index: int) -> tuple[str, str, int]:
        """(name, email domain, surname index) of customer `index`; unique per index."""
        cycle, rest = index // _COMPANY_COMBOS, index % _COMPANY_COMBOS
        p = (rest * 7919 + self._company_offset) % _COMPANY_COMBOS
        s, p = p % len(SURNAMES), p // len(SURNAMES)
        form, t = p // len(TRADES), p % len(TRADES)
        surname, trade = SURNAMES[s], TRADES[t]
        if form == 0:
            name, slug = f"{surname} {trade}", f"{_SURNAME_SLUG[s]}-{_TRADE_SLUG[t]}"
        elif form == 1:
            name, slug = f"{surname} {trade} Ltd", f"{_SURNAME_SLUG[s]}-{_TRADE_SLUG[t]}-ltd"
        elif form == 2:
            name = f"{surname} & Sons {trade}"
            slug = f"{_SURNAME_SLUG[s]}-and-sons-{_TRADE_SLUG[t]}"
        else:
            place = s % len(PLACES)
            name, slug = f"{PLACES[place]} {trade}", f"{_PLACE_SLUG[place]}-{_TRADE_SLUG[t]}"
            if s >= len(PLACES):
                suffix = "Ltd" if s < 2 * len(PLACES) else "Co"
                name, slug = f"{name} {suffix}", f"{slug}-{suffix.lower()}"
        if cycle:
            city = (cycle - 1) % len(CITIES)
            name, slug = f"{name} ({CITIES[city][0]})", f"{slug}-{_CITY_SLUG[city]}"
            if cycle > len(CITIES):
                name, slug = f"{name} {cycle}", f"{slug}-{cycle}"
        return name, slug + ".test", s

    def _person(self, customer: int, k: int, surname: int | None = None) -> tuple[int, int]:
        """Customer's k-th contact person: (first name, surname) as indexes into the word
        lists; the first person often shares the surname of a family firm (`surname`)."""
        h = _mix(self._salt["contacts"] ^ (customer * 4 + k))
        h, first = divmod(h, len(FIRST_NAMES))
        if k == 0 and h % 2:
            if surname is None:
                surname = self._company(customer)[2]
            return first, surname
        return first, (h // 2) % len(SURNAMES)

    def _address(self, h: int) -> tuple[str, str, str, str, str, str, str, str]:
        """(address1, address2, city, county, postcode, country, country name, phone)."""
        # Each choice takes its own bits of the 64-bit hash (shifts and masks are cheap).
        city, county, area, phone_prefix, _ = CITIES[_CITY_WHEEL[(h & 0xFFFF) % len(_CITY_WHEEL)]]
        number = (h >> 16 & 0xFF) % 180
        street = (h >> 24 & 0x1F) % len(STREETS)
        kind = (h >> 29 & 0x7) % len(STREET_KINDS)
        estate = (h >> 32 & 0x1F) % (len(ESTATES) * 3)
        district = (h >> 37 & 0x1F) % 28
        sector = (h >> 42 & 0xF) % 10
        unit = (h >> 46 & 0x3FF) % 1000
        l1 = _POSTCODE_LETTERS[(h >> 56 & 0xF) + (h >> 60 & 0x3)]
        l2 = _POSTCODE_LETTERS[(h >> 52 & 0xF) + (h >> 62 & 0x3)]
        phone = f"{phone_prefix}{unit:03d}"
        if estate < len(ESTATES):
            address1, address2 = f"Unit {number % 40 + 1}", ESTATES[estate]
        else:
            address1, address2 = f"{number + 1} {STREETS[street]} {STREET_KINDS[kind]}", ""
        if city in _IRISH:
            postcode = f"{area}{district % 24 + 1:02d} {l1}{sector}{l2}{unit % 10}"
            return address1, address2, city, county, postcode, "IE", "Ireland", phone
        postcode = f"{area}{district + 1} {sector}{l1}{l2}"
        return address1, address2, city, county, postcode, "GB", "United Kingdom", phone

    # ----------------------------------------------------------------- makers

    def _customer(self, index: int) -> Customer:
        h = _mix(self._salt["customers"] + index)
        company, domain, surname = self._company(index)
        first, last = self._person(index, 0, surname)
        address1, address2, city, county, postcode, country, country_name, phone = self._address(h)
        h2 = _mix(h)
        balance_kind = (h2 & 0xF) % 10
        amount = (h2 >> 4 & 0x7FFFF) % 400_000
        orders = (h2 >> 23 & 0x7F) % 78 + 3
        note = (h2 >> 30 & 0xF) % len(NOTES)
        tags = (h2 >> 34 & 0x7) % len(TAGS)
        age = (h2 >> 37) % (6 * YEAR)
        balance = 0 if balance_kind < 5 else amount // (1 if balance_kind > 8 else 10)
        spent = orders * (4_000 + amount % 60_000)
        updated = self.horizon - _mix(self._time_salt["customers"] + index) % YEAR
        return Customer(
            index=index,
            id=index + 1,
            company=company,
            first_name=FIRST_NAMES[first],
            last_name=SURNAMES[last],
            email=f"{_FIRST_LOCAL[first]}.{_SURNAME_LOCAL[last]}@{domain}",
            phone=phone,
            address1=address1,
            address2=address2,
            city=city,
            region=county,
            postcode=postcode,
            country=country,
            country_name=country_name,
            currency="EUR" if country == "IE" else HOME_CURRENCY,
            balance=money(balance),
            orders_count=orders,
            total_spent=money(spent),
            note=NOTES[note],
            tags=TAGS[tags],
            domain=domain,
            active=(h2 >> 8 & 0xFF) % 40 != 0,
            created=updated - age,
            updated=updated,
        )

    def _contact_owner(self, index: int) -> tuple[int, int]:
        group, rest = divmod(index, _GROUP_CONTACTS)
        offset, k = _CONTACT_OWNER[rest]
        return group * _GROUP + offset, k

    def first_contact(self, customer: int) -> int:
        """The index of a customer's first contact person (the customer's own person)."""
        group, offset = divmod(customer, _GROUP)
        return group * _GROUP_CONTACTS + _FIRST_CONTACT[offset]

    def _contact(self, index: int) -> Contact:
        customer, k = self._contact_owner(index)
        company, domain, surname = self._company(customer)
        first, last = self._person(customer, k, surname)
        if k == 1 and first == self._person(customer, 0, surname)[0]:
            first = (first + 7) % len(FIRST_NAMES)  # two people, two different addresses
        h = _mix(self._salt["contacts"] + index)
        h, title = divmod(h, len(JOB_TITLES))
        h, number = divmod(h, 1000)
        h, age = divmod(h, 3 * YEAR)
        updated = self._base_updated["contacts"](index)
        return Contact(
            index=index,
            id=index + 1,
            customer_id=customer + 1,
            company=company,
            first_name=FIRST_NAMES[first],
            last_name=SURNAMES[last],
            email=f"{_FIRST_LOCAL[first]}.{_SURNAME_LOCAL[last]}@{domain}",
            phone=f"{MOBILE_PREFIX}{number:03d}",
            job_title=JOB_TITLES[title],
            primary=k == 0,
            created=updated - age,
            updated=updated,
        )

    def _supplier(self, index: int) -> Supplier:
        combos = len(SUPPLIER_STEMS) * len(SUPPLIER_KINDS)
        p = (index * 97 + self._company_offset) % combos
        stem, kind = divmod(p, len(SUPPLIER_KINDS))
        company = f"{SUPPLIER_STEMS[stem]} {SUPPLIER_KINDS[kind]}"
        domain = _slug(company.removesuffix(" Ltd").removesuffix(" UK")) + ".test"
        h = _mix(self._salt["suppliers"] + index)
        first = FIRST_NAMES[h % len(FIRST_NAMES)]
        h //= len(FIRST_NAMES)
        last = SURNAMES[h % len(SURNAMES)]
        h //= len(SURNAMES)
        address1, _, city, county, postcode, country, country_name, phone = self._address(_mix(h))
        if country == "IE":  # the suppliers are all in Great Britain
            city, county, postcode = "Leeds", "West Yorkshire", "LS10 1AB"
            country, country_name, phone = "GB", "United Kingdom", "+44 113 496 0" + phone[-3:]
        updated = self._base_updated["suppliers"](index)
        return Supplier(
            index=index,
            id=index + 1,
            company=company,
            first_name=first,
            last_name=last,
            email=f"{_local(first, last)}@{domain}",
            phone=phone,
            account_number=f"HART-{1000 + _mix(h) % 9000}",
            address1=address1,
            city=city,
            region=county,
            postcode=postcode,
            country=country,
            country_name=country_name,
            currency=HOME_CURRENCY,
            domain=domain,
            active=index % 23 != 22,
            created=updated - YEAR - h % (4 * YEAR),
            updated=updated,
        )

    def _make_product_core(self, index: int) -> _ProductCore:
        """(sku, name, category, unit, price in pence, tax rate, kg) of a product as made."""
        cycle, rest = divmod(index, len(_PRODUCT_COMBOS))
        item_no, size = _PRODUCT_COMBOS[(rest * 61 + self.seed) % len(_PRODUCT_COMBOS)]
        code, category, item, unit, low, high, _, _, tax = CATALOGUE[item_no]
        name = f"{item} {size}"
        if cycle and category == "Services":
            name += f" ({cycle + 1})"
        elif cycle:
            brand = SUPPLIER_STEMS[(cycle - 1) % len(SUPPLIER_STEMS)]
            name = f"{brand} {name}"
            if cycle > len(SUPPLIER_STEMS):
                name += f" ({cycle // len(SUPPLIER_STEMS) + 1})"
        h = _mix(self._salt["products"] + index)
        pence = low + h % (high - low + 1)
        pence = pence - pence % 5 if pence < 1000 else pence - pence % 100 + 99
        weight = CATALOGUE[item_no][6]
        return f"{code}-{10001 + index}", name, category, unit, pence, tax, weight

    def _product(self, index: int) -> Product:
        sku, name, category, unit, pence, tax, weight = self._product_core(index)
        h = _mix(_mix(self._salt["products"] + index))
        h, margin = divmod(h, 25)
        h, quantity = divmod(h, 400)
        h, supplier = divmod(h, self.counts["suppliers"])
        h, sale = divmod(h, 12)
        h, age = divmod(h, 3 * YEAR)
        cost = cents(Decimal(pence) * (55 + margin) / 10_000)
        updated = self._base_updated["products"](index)
        return Product(
            index=index,
            id=index + 1,
            sku=sku,
            name=name,
            category=category,
            unit=unit,
            description=f"{name}. Sold by the {unit}." if unit != "each" else f"{name}.",
            price=money(pence),
            compare_at_price=money(pence * 115 // 100) if sale == 0 else None,
            cost=str(cost),
            tax_rate=tax,
            active=h % 20 != 0,
            quantity=0 if quantity < 12 else quantity,
            weight=weight,
            supplier_id=supplier + 1,
            supplier=self._supplier_name(supplier),
            created=updated - age,
            updated=updated,
        )

    def _supplier_name(self, index: int) -> str:
        combos = len(SUPPLIER_STEMS) * len(SUPPLIER_KINDS)
        stem, kind = divmod((index * 97 + self._company_offset) % combos, len(SUPPLIER_KINDS))
        return f"{SUPPLIER_STEMS[stem]} {SUPPLIER_KINDS[kind]}"

    def _lines(self, h: int) -> tuple[tuple[Line, ...], int, int]:
        """1 to 5 order or invoice lines; (lines, subtotal, tax) with amounts in pence."""
        h, count = divmod(h, 5)
        lines = []
        subtotal = tax_total = 0
        products = self.counts["products"]
        for number in range(1, count + 2):
            h = _mix(h)
            product = h % products
            sku, name, _, _, pence, rate, _ = self._product_core(product)
            quantity = 1 + (h // products) % (4 if pence > 5000 else 20)
            amount = pence * quantity
            tax = int((Decimal(amount) * Decimal(rate) / 100).to_integral_value(ROUND_HALF_UP))
            subtotal += amount
            tax_total += tax
            lines.append(
                Line(
                    number,
                    product + 1,
                    sku,
                    name,
                    quantity,
                    money(pence),
                    money(amount),
                    money(tax),
                )
            )
        return tuple(lines), subtotal, tax_total

    def _order_created(self, index: int) -> int:
        """Orders are numbered in time: spread evenly over the year, the newest 2 h old."""
        n = self.counts["orders"]
        span = YEAR - HOUR
        jitter = _mix(self._time_salt["orders"] + index) % max(1, span // n)
        return self.horizon - HOUR - span + (index * span) // n + jitter

    def _order_open(self, index: int, created: int) -> bool:
        return created > self.horizon - 21 * DAY or _mix(self._salt["orders"] ^ index) % 60 == 0

    def _order_updated(self, index: int) -> int:
        created = self._order_created(index)
        if self._order_open(index, created):
            delay = _mix(self._time_salt["orders"] ^ index) % (2 * HOUR)
        else:
            delay = DAY + _mix(self._time_salt["orders"] ^ index) % (9 * DAY)
        return min(created + delay, self.horizon)

    def _order(self, index: int) -> Order:
        h = _mix(self._salt["orders"] + index)
        h, customer_index = divmod(h, self.counts["customers"])
        customer = self._customer(customer_index)
        h, due_days = divmod(h, 12)
        h, status_kind = divmod(h, 10)
        lines, subtotal, tax = self._lines(h)
        created = self._order_created(index)
        updated = self._order_updated(index)
        is_open = self._order_open(index, created)
        financial = "paid" if not is_open or status_kind < 3 else "pending"
        if is_open and status_kind == 9:
            financial = "partially_paid"
        return Order(
            index=index,
            id=index + 1,
            number=1001 + index,
            customer_id=customer.id,
            customer_company=customer.company,
            customer_first_name=customer.first_name,
            customer_last_name=customer.last_name,
            customer_email=customer.email,
            currency=customer.currency,
            status="open" if is_open else "closed",
            financial_status=financial,
            fulfillment_status=None if is_open else "fulfilled",
            due_date=iso_date(created + (2 + due_days) * DAY),
            lines=lines,
            subtotal=money(subtotal),
            tax=money(tax),
            total=money(subtotal + tax),
            note="",
            created=created,
            closed=None if is_open else updated,
            updated=updated,
        )

    def _invoice_created(self, index: int) -> int:
        n = self.counts["invoices"]
        span = YEAR - HOUR
        jitter = _mix(self._time_salt["invoices"] + index) % max(1, span // n)
        return self.horizon - HOUR - span + (index * span) // n + jitter

    def _invoice_state(self, index: int, created: int) -> tuple[bool, int]:
        """(paid, when it was paid or last touched)."""
        h = _mix(self._salt["invoices"] ^ index)
        due = created + 30 * DAY
        paid = (due < self.horizon and h % 12 != 0) or (h % 5 == 0 and created < self.horizon)
        touched = created + (h >> 8) % (40 * DAY) if paid else created + (h >> 8) % HOUR
        return paid, min(touched, self.horizon)

    def _invoice_updated(self, index: int) -> int:
        return self._invoice_state(index, self._invoice_created(index))[1]

    def _invoice(self, index: int) -> Invoice:
        h = _mix(self._salt["invoices"] + index)
        h, customer_index = divmod(h, self.counts["customers"])
        customer = self._customer(customer_index)
        lines, subtotal, tax = self._lines(h)
        created = self._invoice_created(index)
        paid, updated = self._invoice_state(index, created)
        total = subtotal + tax
        balance = 0 if paid else total
        if not paid and h % 7 == 0:
            balance = (total + 1) // 2  # part-paid
        return Invoice(
            index=index,
            id=index + 1,
            number=f"INV-{10001 + index}",
            customer_id=customer.id,
            customer_company=customer.company,
            customer_email=customer.email,
            currency=customer.currency,
            date=iso_date(created),
            due_date=iso_date(created + 30 * DAY),
            lines=lines,
            subtotal=money(subtotal),
            tax=money(tax),
            total=money(total),
            balance=money(balance),
            paid=paid,
            note="",
            created=created,
            updated=updated,
        )


def _other_number(phone: str, rng: random.Random) -> str:
    """A different number in the same drama range."""
    last = int(phone[-3:])
    return f"{phone[:-3]}{(last + rng.randint(1, 999)) % 1000:03d}"
