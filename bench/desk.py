"""How fast is the fallback desk with a big replica, and does it ever lose or duplicate a
document when many people work at once?

Targets (issue 5), with 100,000 customers and 50,000 products in the replica, SQLite:
search p95 under 30 ms; a one-page invoice PDF under 400 ms median; 20 concurrent users
creating documents (for a minute), p95 under 300 ms, with zero lost or duplicated documents.

What it does: a temporary data folder (SQLite); one organisation whose replica gets the
simulated business's customers and products (fallback.simulator.business: realistic
company, person, city and product names), written with bulk SQL as a sync would leave them;
then the desk's search index is built with search_index.rebuild (timed). Then
  1. search: a few hundred queries as staff type them — name prefixes, whole words, SKUs,
     two-word queries, contacts' names and typos — through desk.search.search, timed one by
     one (after a short warm-up), with how often the record meant is among the hits;
  2. PDF: if desk.printing.document_pdf exists, one warm-up, then 50 one-page invoices,
     each timed (else a note, and null);
  3. create: the real server (`fallback serve`, its own process, on the same data folder)
     and 20 client threads, each making documents (1 to 5 replica products, sometimes a
     typed line) through the API with request keys for `--seconds` (or `--per-user`
     documents each), pausing `--think` seconds on average between two documents (0: as
     fast as the server answers). Half the users have a device of their own, the other
     half share the API's, so one number series is written by many at once. Some requests
     are sent again on purpose:
     a retry after the answer (a second click), two at once on two connections (a double
     click), and one whose connection is dropped before the answer is read (a reconnect),
     then retried. Afterwards the database is counted: documents made, acknowledged keys
     with no document (lost), and keys or numbers saved twice, or one key answered with two
     documents (duplicated).

Every document looks its customer and products up in the replica by key; the run says
whether the schema has an index for that.

Usage: .venv/bin/python bench/desk.py [--customers N] [--products N] [--users N]
       [--seconds S | --per-user N] [--think S] [--keep]
The last line is one JSON object: search_p95_ms, pdf_p50_ms, create_p95_ms,
documents_created, lost, duplicated.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BATCH = 5000
SEED = 7
SOLO = 30  # documents made by one user alone, before the crowd
SERVER_THREADS = 8  # waitress's, in fallback.runtime.processes.run_serve


def load() -> str:
    """The machine's load: other work running alongside makes every figure worse."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def figures(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms,"
        f" p99 {percentile(values, 0.99):.1f} ms, max {max(values):.1f} ms"
    )


# ---------------------------------------------------------------------------- data


def customer_rows(business: Any, count: int) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for c in business.records("customers", range(count)):
        yield (
            str(c.id),
            c.company,
            {
                "name": c.company,
                "contact_name": f"{c.first_name} {c.last_name}",
                "email": c.email,
                "phone": c.phone,
                "address": ", ".join(p for p in (c.address1, c.address2) if p),
                "city": c.city,
                "region": c.region,
                "postcode": c.postcode,
                "country": c.country,
                "currency": c.currency,
                "balance": c.balance,
                "active": c.active,
            },
        )


def product_rows(business: Any, count: int) -> Iterator[tuple[str, str, dict[str, Any]]]:
    # The simulated business scales its catalogue with its customers (40,000 for 100,000);
    # its products are made by index, so asking for more simply gives more.
    business.counts["products"] = max(business.counts["products"], count)
    for p in business.records("products", range(count)):
        yield (
            str(p.id),
            p.name,
            {
                "sku": p.sku,
                "name": p.name,
                "description": p.description,
                "unit": p.unit,
                "price": p.price,
                "cost": p.cost,
                "tax_rate": p.tax_rate,
                "currency": "GBP",
                "stock": str(p.quantity),
                "active": p.active,
            },
        )


def insert_records(
    org_id: int, connector_id: int, entity: str, rows: Iterator[tuple[str, str, dict[str, Any]]]
) -> int:
    """Current replica records, as a sync leaves them, in batches of plain INSERTs."""
    from django.db import connection, transaction

    at = connection.ops.adapt_datetimefield_value(datetime.now(UTC) - timedelta(hours=1))
    sql = (
        "INSERT INTO replica_record (org_id, connector_id, stream, entity, key, name, data,"
        " digest, valid_from, valid_to, ended, sync_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, '', NULL)"
    )
    count = 0
    batch: list[tuple[Any, ...]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for key, name, data in rows:
            text = json.dumps(data, separators=(",", ":"))
            digest = f"{hash(text) & 0xFFFFFFFFFFFF:032x}"
            batch.append((org_id, connector_id, f"{entity}s", entity, key, name, text, digest, at))
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def key_index() -> str:
    """Whether current records can be found by (org, entity, key) through an index: the desk
    looks a customer or product up by its key for every document."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "replica_record")
    if any(
        c["index"] and c["columns"][:3] == ["org_id", "entity", "key"] for c in constraints.values()
    ):
        return "present"
    return "MISSING: each look-up by key scans every record of its kind"


# -------------------------------------------------------------------------- search


def typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: two neighbouring letters swapped, one doubled or one lost."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    how = rng.choice(("swap", "double", "drop"))
    if how == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if how == "double":
        return word[: i + 1] + word[i] + word[i + 1 :]
    return word[:i] + word[i + 1 :]


@dataclass
class Query:
    kind: str
    text: str
    key: str  # the one record meant, or "" when many answer
    entity: str


def _words(text: str) -> list[str]:
    return [w for w in text.replace("(", " ").replace(")", " ").split() if w.isalpha()]


def queries(business: Any, customers: int, products: int, each: int) -> list[Query]:
    """`each` queries of every kind, as staff type them."""
    rng = random.Random(SEED)  # noqa: S311 (a repeatable workload, not a secret)
    made: list[Query] = []

    def pick_customer() -> Any:
        return business.customer(rng.randrange(customers))

    def pick_product() -> Any:
        return business.product(rng.randrange(products))

    for _ in range(each):
        c = pick_customer()
        key = str(c.id)
        words = _words(c.company)
        first = words[0].lower()

        def add(kind: str, text: str, key: str = "", entity: str = "customer") -> None:
            made.append(Query(kind, text, key, entity))

        # Many customers answer these: what counts is how fast, not which comes first.
        add("prefix", first[: rng.randint(3, max(3, min(7, len(first))))])
        add("word", rng.choice([*words, c.city]).lower())
        add("two words", f"{first[:4]} {c.city.lower()[:5]}")
        # These mean one record: it should be among the hits.
        person = f"{c.first_name} {c.last_name}".lower()
        add("contact", person, key)
        slip = person.split()
        longest = max(range(len(slip)), key=lambda i: len(slip[i]))
        slip[longest] = typo(slip[longest], rng)
        add("contact typo", " ".join(slip), key)
        p = pick_product()
        pkey = str(p.id)
        add("sku", p.sku.lower() if rng.random() < 0.5 else p.sku, pkey, "product")
        # As a person types it: without the "(2)" that tells the simulator's look-alikes apart.
        name = p.name.lower().split(" (")[0]
        add("product name", name, pkey, "product")
        longest_word = max(name.split(), key=len)
        add("product typo", name.replace(longest_word, typo(longest_word, rng), 1), pkey, "product")
    rng.shuffle(made)
    return made


def run_search(org_id: int, batch: list[Query]) -> list[float]:
    from fallback.desk import search

    for q in batch[:20]:  # warm-up: the first queries page the index in
        search.search(org_id, q.text)
    times: list[float] = []
    by_kind: dict[str, list[float]] = {}
    found: dict[str, list[bool]] = {}
    hits_of: dict[str, list[int]] = {}
    for q in batch:
        start = time.perf_counter()
        hits = search.search(org_id, q.text)
        ms = (time.perf_counter() - start) * 1000
        times.append(ms)
        by_kind.setdefault(q.kind, []).append(ms)
        hits_of.setdefault(q.kind, []).append(len(hits))
        meant = found.setdefault(q.kind, [])
        if q.key:
            meant.append(any(h.key == q.key and h.entity == q.entity for h in hits))
    for kind, values in sorted(by_kind.items()):
        meant = found[kind]
        share = f"the one meant among them {100 * sum(meant) / len(meant):3.0f}%" if meant else ""
        print(
            f"  {kind:>13}: {len(values):3d} queries, p50 {percentile(values, 0.5):5.1f} ms,"
            f" p95 {percentile(values, 0.95):5.1f} ms, {statistics.mean(hits_of[kind]):4.1f} hits;"
            f" {share} (e.g. {next(q.text for q in batch if q.kind == kind)!r})"
        )
    return times


# ----------------------------------------------------------------------------- PDF


def run_pdf(org: Any, user: Any, count: int) -> float | None:
    try:
        from fallback.desk import printing
    except ImportError:
        printing = None
    render: Callable[..., Any] | None = getattr(printing, "document_pdf", None)
    if render is None:
        print("PDF: fallback.desk.printing.document_pdf does not exist yet — not measured (null)")
        return None
    from fallback.desk import documents, numbering
    from fallback.desk.documents import DocumentInput
    from fallback.desk.models import Device

    device = Device.objects.filter(org=org, code="PDF").first() or numbering.register_device(
        org, "PDF bench", code="PDF"
    )
    made = []
    for i in range(count + 1):
        name, details = documents.party_details(org, "customer", str(i + 1))
        lines = [documents.product_line(org, str(1 + (i * 7 + n) % 5000), n + 1) for n in range(4)]
        data = DocumentInput(
            kind="invoice",
            party_key=str(i + 1),
            party_name=name,
            party_details=details,
            lines=[line for line in lines if line is not None],
        )
        made.append(documents.create(org, device, data, f"pdf-{i}", user)[0])
    first = render(made[0])  # warm-up: fonts, templates, WeasyPrint's first layout
    size = len(first) if isinstance(first, (bytes, bytearray)) else 0
    times = []
    for document in made[1:]:
        start = time.perf_counter()
        render(document)
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(
        f"PDF: {count} one-page invoices ({size:,} bytes each): median {median:.1f} ms;"
        f" {figures(times)}"
    )
    return median


# -------------------------------------------------------------------------- create


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["FALLBACK_HOME"] = home
    log = Path(home) / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fallback", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc, port, log
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}") from None
            time.sleep(0.05)


def warm_up(port: int, slug: str, token: str) -> None:
    """A few rounds of reads on every server thread, as a server that has been up a while
    has: each thread's database connection open, the URL patterns and schemas compiled."""

    def read() -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/orgs/{slug}/desk/mode",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    for _ in range(3):
        readers = [threading.Thread(target=read) for _ in range(SERVER_THREADS)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # first attempts
    retry_latencies: list[float] = field(default_factory=list)
    acked: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → (id, number)
    answered_twice_differently: int = 0
    errors: list[str] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)
    retries: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, key: str, status: int, body: Any) -> None:
        with self.lock:
            if status not in (200, 201):
                self.errors.append(f"{status}: {str(body)[:200]}")
                return
            got = (int(body["id"]), str(body["number"]))
            before = self.acked.setdefault(key, got)
            if before != got:
                self.answered_twice_differently += 1


class User(threading.Thread):
    """One person at the desk: makes documents one after another, sometimes clicking twice,
    retrying, or losing the connection before the answer."""

    def __init__(
        self,
        n: int,
        port: int,
        token: str,
        slug: str,
        customers: int,
        products: int,
        stop_at: float,
        per_user: int,
        think: float,
        device: str,
        results: Results,
    ) -> None:
        super().__init__(name=f"user-{n}", daemon=True)
        self.think, self.device = think, device
        self.rng = random.Random(SEED * 1000 + n)  # noqa: S311 (a repeatable workload)
        self.port, self.token, self.path = port, token, f"/api/orgs/{slug}/desk/documents"
        self.customers, self.products = customers, products
        self.stop_at, self.per_user, self.results = stop_at, per_user, results
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def _body(self, key: str) -> bytes:
        rng = self.rng
        lines = [
            {
                "product_key": str(rng.randrange(1, self.products + 1)),
                "quantity": rng.randint(1, 12),
            }
            for _ in range(rng.randint(1, 5))
        ]
        if rng.random() < 0.2:
            lines.append({"description": "Call-out fee", "quantity": "1", "unit_price": "45.00"})
        return json.dumps(
            {
                "kind": rng.choice(("quote", "order", "invoice", "invoice", "delivery_docket")),
                "party_key": str(rng.randrange(1, self.customers + 1)),
                "reference": f"PO {rng.randint(1000, 99999)}",
                "lines": lines,
                "request_key": key,
                "device": self.device,
            }
        ).encode()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def post(
        self, body: bytes, conn: http.client.HTTPConnection | None = None
    ) -> tuple[int, Any, float]:
        conn = conn or self.conn
        start = time.perf_counter()
        try:
            conn.request("POST", self.path, body=body, headers=self._headers())
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()  # reconnect once: the same request key makes it harmless
            conn.request("POST", self.path, body=body, headers=self._headers())
            response = conn.getresponse()
            data = response.read()
        ms = (time.perf_counter() - start) * 1000
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data[:200]
        return response.status, parsed, ms

    def run(self) -> None:
        made = 0
        while (self.per_user and made < self.per_user) or (
            not self.per_user and time.monotonic() < self.stop_at
        ):
            made += 1
            if self.think:  # between two documents, the next customer is on the phone
                time.sleep(self.rng.uniform(0, 2 * self.think))
            key = str(uuid.uuid4())
            body = self._body(key)
            with self.results.lock:
                self.results.sent.add(key)
            roll = self.rng.random()
            try:
                if roll < 0.05:
                    self._dropped_then_retried(key, body)
                elif roll < 0.15:
                    self._double_click(key, body)
                else:
                    status, answer, ms = self.post(body)
                    self._first(key, status, answer, ms)
                    if roll < 0.25:  # clicked again after the answer
                        status, answer, ms = self.post(body)
                        self._again(key, status, answer, ms)
            except Exception as exc:  # a harness error is a figure, not a crash
                with self.results.lock:
                    self.results.errors.append(f"{type(exc).__name__}: {exc}")
                self.conn.close()
                self.conn = self._connect()

    def _first(self, key: str, status: int, answer: Any, ms: float) -> None:
        self.results.ack(key, status, answer)
        with self.results.lock:
            self.results.latencies.append(ms)

    def _again(self, key: str, status: int, answer: Any, ms: float) -> None:
        self.results.ack(key, status, answer)
        with self.results.lock:
            self.results.retry_latencies.append(ms)
            self.results.retries[key] = self.results.retries.get(key, 0) + 1

    def _double_click(self, key: str, body: bytes) -> None:
        """The same request on two connections at the same moment."""
        other = self._connect()
        answers: list[tuple[int, Any, float]] = []
        second = threading.Thread(target=lambda: answers.append(self.post(body, other)))
        second.start()
        status, answer, ms = self.post(body)
        second.join()
        other.close()
        self._first(key, status, answer, ms)
        self._again(key, *answers[0])

    def _dropped_then_retried(self, key: str, body: bytes) -> None:
        """The request goes out, the connection drops before the answer: retried."""
        lost = self._connect()
        lost.request("POST", self.path, body=body, headers=self._headers())
        lost.close()
        time.sleep(self.rng.uniform(0, 0.05))
        status, answer, ms = self.post(body)
        self._again(key, status, answer, ms)


def run_create(
    home: str,
    slug: str,
    token: str,
    customers: int,
    products: int,
    users: int,
    seconds: float,
    per_user: int,
    think: float,
    devices: list[str],
) -> Results:
    proc, port, log = start_server(home)
    print(f"server: `fallback serve` on port {port} (log {log}); {load()}", flush=True)
    results = Results()
    try:
        warm_up(port, slug, token)
        # One person alone first: the time a document takes when nobody else is waiting.
        User(
            n=-1,
            port=port,
            token=token,
            slug=slug,
            customers=customers,
            products=products,
            stop_at=0,
            per_user=SOLO,
            think=0,
            device="",
            results=results,
        ).run()
        solo = list(results.latencies)
        results.latencies.clear()
        print(f"create, one user alone: {len(solo)} documents, {figures(solo)}", flush=True)
        stop_at = time.monotonic() + seconds
        crowd = [
            User(
                n,
                port,
                token,
                slug,
                customers,
                products,
                stop_at,
                per_user,
                think,
                devices[n] if n < len(devices) else "",
                results,
            )
            for n in range(users)
        ]
        start = time.perf_counter()
        for user in crowd:
            user.start()
        last = start
        while any(u.is_alive() for u in crowd):
            time.sleep(0.5)
            if time.perf_counter() - last >= 10:
                last = time.perf_counter()
                with results.lock:
                    done = len(results.latencies)
                print(f"  {last - start:5.0f} s: {done:,} documents asked for", flush=True)
        elapsed = time.perf_counter() - start
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    made = len(results.acked)
    print(f"  {load()} at the end")
    print(
        f"create: {users} users (pausing {think:g} s on average), {elapsed:.1f} s,"
        f" {made:,} documents acknowledged"
        f" ({made / elapsed:.0f}/s); first attempts: {figures(results.latencies)}"
    )
    if results.retry_latencies:
        print(
            f"  {len(results.retry_latencies):,} repeated requests (second clicks, double"
            f" clicks, reconnects): {figures(results.retry_latencies)}"
        )
    if results.errors:
        print(f"  {len(results.errors)} errors, e.g. {results.errors[:3]}; see {log}")
    return results


def count_documents(org: Any, results: Results) -> tuple[int, int, int]:
    """(documents made, lost, duplicated) as the database has them."""
    from collections import Counter

    from fallback.desk.models import Document

    rows = list(
        Document.objects.filter(org=org, request_key__in=results.sent).values_list(
            "request_key", "number", "pk"
        )
    )
    keys = Counter(k for k, _, _ in rows)
    numbers = Counter(Document.objects.filter(org=org).values_list("number", flat=True))
    saved = {k: (pk, n) for k, n, pk in rows}
    lost = sum(1 for key in results.acked if key not in saved)
    mismatched = sum(1 for key, got in results.acked.items() if key in saved and saved[key] != got)
    duplicated = (
        sum(c - 1 for c in keys.values())
        + sum(c - 1 for c in numbers.values())
        + results.answered_twice_differently
        + mismatched
    )
    unacked = len(saved) - len(set(saved) & set(results.acked))
    print(
        f"database: {len(rows):,} documents for {len(results.sent):,} request keys sent"
        f" ({len(results.acked):,} acknowledged, {unacked} saved but never acknowledged);"
        f" lost {lost}, duplicated {duplicated}"
    )
    return len(rows), lost, duplicated


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=40, help="of each of 8 kinds")
    parser.add_argument("--pdfs", type=int, default=50)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="users work this long")
    parser.add_argument("--per-user", type=int, default=0, help="or make this many each")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between a user's documents (s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder afterwards")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="fallback-bench-desk-")
    os.environ["FALLBACK_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "fallback.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from fallback.accounts.membership import create_organisation
    from fallback.accounts.models import ApiToken, User
    from fallback.desk import mode, numbering, search_index
    from fallback.replica.models import Connector
    from fallback.simulator.business import Business

    owner = User.objects.create_user("owner@bench.test", "a long bench password 42")
    org = create_organisation("Bench Ltd", owner=owner)
    token = ApiToken.issue(owner, "bench")[1]
    # Disabled: the server's worker must not try to sync it during the run.
    connector = Connector.objects.create(
        org=org, name="Main system", slug="main", kind="files", enabled=False
    )
    print(f"data folder {home}; {os.cpu_count()} CPUs, {load()}", flush=True)

    business = Business(customers=args.customers, seed=SEED)
    start = time.perf_counter()
    n_customers = insert_records(
        org.pk, connector.pk, "customer", customer_rows(business, args.customers)
    )
    n_products = insert_records(
        org.pk, connector.pk, "product", product_rows(business, args.products)
    )
    print(
        f"replica: {n_customers:,} customers and {n_products:,} products written in"
        f" {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    start = time.perf_counter()
    entries = search_index.rebuild(org.pk)
    print(f"search index rebuilt: {entries:,} entries in {time.perf_counter() - start:.1f} s")
    print(f"index of current records by key: {key_index()}")
    with connection.cursor() as cursor:
        # No ANALYZE: the application never runs it, so its query plans are the ones
        # SQLite picks without statistics, as here.
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(f.stat().st_size for f in Path(home).glob("*.sqlite3*"))
    print(f"database file: {size / 1024 / 1024:.0f} MB", flush=True)

    batch = queries(business, args.customers, args.products, args.queries)
    print(f"search: {len(batch)} queries", flush=True)
    search_times = run_search(org.pk, batch)
    print(f"search overall: {figures(search_times)}", flush=True)

    mode.switch_on(org, owner, "Benchmark: the main system is down")
    # Half the users work on devices of their own, the other half share the API's device
    # (one number series written by ten users at once).
    devices = [numbering.register_device(org, f"Desk {n + 1}").code for n in range(args.users // 2)]
    pdf_p50 = run_pdf(org, owner, args.pdfs)

    connection.close()  # the server takes over the database
    results = run_create(
        home,
        org.slug,
        token,
        args.customers,
        args.products,
        args.users,
        args.seconds,
        args.per_user,
        args.think,
        devices,
    )
    created, lost, duplicated = count_documents(org, results)
    connection.close()
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    print(
        json.dumps(
            {
                "search_p95_ms": round(percentile(search_times, 0.95), 1),
                "pdf_p50_ms": round(pdf_p50, 1) if pdf_p50 is not None else None,
                "create_p95_ms": round(percentile(results.latencies, 0.95), 1),
                "documents_created": created,
                "lost": lost,
                "duplicated": duplicated,
            }
        )
    )


if __name__ == "__main__":
    main()
