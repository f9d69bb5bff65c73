"""The fallback desk: periods of fallback mode, the devices that work in them, the documents
and work notes made while the main system is down, and the search index over the replica.

Nothing here is ever deleted: a mistake is voided with a reason and stays visible, and every
document and note reaches the reconciliation list of its period.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.accounts.scoping import OrgOwned

PREFIX_VALIDATOR = RegexValidator(
    r"^[A-Z][A-Z0-9]{0,5}$", "1 to 6 capital letters or digits, starting with a letter"
)
DEVICE_CODE_VALIDATOR = RegexValidator(r"^[A-Z]{1,3}$", "1 to 3 capital letters")
ZERO = Decimal("0")


class DeskSettings(models.Model):
    """How an organisation's desk numbers, taxes and letters its documents."""

    org = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="desk")
    covered_systems = models.ManyToManyField(
        "monitor.System",
        blank=True,
        related_name="+",
        help_text="A declared outage of any of these switches fallback mode on (none chosen: any)",
    )
    number_prefix = models.CharField(
        max_length=6,
        default="FB",
        validators=[PREFIX_VALIDATOR],
        help_text="Starts every provisional number; choose one your main system never uses",
    )
    tax_name = models.CharField(max_length=20, default="VAT")
    tax_rate = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=Decimal("20"),
        help_text="Percent, for products the replica gives no rate for",
    )
    prices_include_tax = models.BooleanField(
        default=False, help_text="Price-list prices already include tax"
    )
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    quote_valid_days = models.PositiveSmallIntegerField(default=30)
    letterhead_name = models.CharField(max_length=200, blank=True)
    letterhead_address = models.TextField(blank=True)
    letterhead_phone = models.CharField(max_length=60, blank=True)
    letterhead_email = models.CharField(max_length=200, blank=True)
    letterhead_tax_number = models.CharField(max_length=60, blank=True)
    footer = models.TextField(blank=True, help_text="Printed at the foot of every document")
    document_css = models.TextField(
        blank=True, help_text="Extra CSS for printed documents (overrides the default look)"
    )
    system_back_checklist = models.TextField(
        blank=True,
        help_text="The 'system back up' checklist, one step per line (until the plan has one)",
    )

    def __str__(self) -> str:
        return f"desk settings of {self.org}"


class FallbackPeriod(OrgOwned):
    """One spell of fallback mode: opened by a declared outage of a covered system or by a
    manager; its documents and notes are reconciled with the main system afterwards."""

    number = models.PositiveIntegerField(help_text="1, 2, 3… per organisation; in every number")
    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fallback_period",
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    is_exercise = models.BooleanField(
        default=False, help_text="Opened by a drill: its documents are marked as an exercise"
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["org", "number"], name="desk_period_number"),
        ]

    def __str__(self) -> str:
        return f"fallback period {self.number}"


class Device(OrgOwned):
    """A computer or tablet working at the desk; its code is in every number it gives, so two
    devices never hand out the same number even when they cannot reach each other."""

    code = models.CharField(max_length=3, validators=[DEVICE_CODE_VALIDATOR])
    name = models.CharField(max_length=100)
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["org", "code"], name="desk_device_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class DocumentKind(models.TextChoices):
    QUOTE = "quote", "Quote"
    ORDER = "order", "Sales order"
    INVOICE = "invoice", "Invoice"
    PURCHASE_ORDER = "purchase_order", "Purchase order"
    PICKING_LIST = "picking_list", "Picking list"
    DELIVERY_DOCKET = "delivery_docket", "Delivery docket"


class Party(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SUPPLIER = "supplier", "Supplier"


class NumberSeries(OrgOwned):
    """The last sequence number a device gave one kind of document in one period."""

    period = models.ForeignKey(FallbackPeriod, on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "device", "kind"], name="desk_number_series_unique"
            ),
        ]


class Reconciled(models.Model):
    """What reconciliation, voiding and idempotency add to a document or a note."""

    request_key = models.CharField(
        max_length=80, help_text="Idempotency key: the same key never makes a second row"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_label = models.CharField(max_length=254, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)
    final_number = models.CharField(
        max_length=60, blank=True, help_text="The number the main system gave it"
    )
    reconciled_at = models.DateTimeField(null=True, blank=True)
    reconciled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    waived_at = models.DateTimeField(null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    waive_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def is_open(self) -> bool:
        """Still to be dealt with on the way back: not entered in the main system, not
        waived, not void (a voided document is shown, but there is nothing to enter)."""
        return self.reconciled_at is None and self.waived_at is None and self.voided_at is None


class Document(OrgOwned, Reconciled):
    period = models.ForeignKey(FallbackPeriod, on_delete=models.PROTECT, related_name="documents")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    number = models.CharField(max_length=40)
    party = models.CharField(max_length=10, choices=Party.choices, default=Party.CUSTOMER)
    party_key = models.CharField(max_length=200, blank=True, help_text="Its key in the replica")
    party_name = models.CharField(max_length=300)
    party_details = models.JSONField(
        default=dict, blank=True, help_text="Address, email, phone, tax number as printed"
    )
    reference = models.CharField(max_length=100, blank=True, help_text="e.g. the customer's PO")
    issued_on = models.DateField()
    due_on = models.DateField(null=True, blank=True)
    delivery_address = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    currency = models.CharField(max_length=3)
    prices_include_tax = models.BooleanField(default=False)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    tax = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    source = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The document this one was made from (a quote for an order, …)",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "number"], name="desk_document_number"),
            models.UniqueConstraint(fields=["org", "request_key"], name="desk_document_request"),
        ]
        indexes = [models.Index(fields=["org", "party", "party_key"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class DocumentLine(OrgOwned):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    product_key = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=20, blank=True)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3)
    net = models.DecimalField(max_digits=14, decimal_places=2)
    tax = models.DecimalField(max_digits=14, decimal_places=2)
    total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="desk_line_position"),
        ]


class NoteKind(models.TextChoices):
    CALL = "call", "Call taken"
    PROMISE = "promise", "Promise made"
    GOODS_SENT = "goods_sent", "Goods sent"
    PAYMENT = "payment", "Payment received"
    OTHER = "other", "Other work"


class WorkNote(OrgOwned, Reconciled):
    """A timestamped note of work done while the main system was down."""

    period = models.ForeignKey(
        FallbackPeriod, on_delete=models.PROTECT, null=True, blank=True, related_name="notes"
    )
    at = models.DateTimeField(default=timezone.now, help_text="When the work was done")
    kind = models.CharField(max_length=12, choices=NoteKind.choices, default=NoteKind.OTHER)
    text = models.TextField()
    party = models.CharField(max_length=10, choices=Party.choices, blank=True)
    party_key = models.CharField(max_length=200, blank=True)
    party_name = models.CharField(max_length=300, blank=True)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="work_notes"
    )

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "request_key"], name="desk_note_request"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"


class SearchEntry(OrgOwned):
    """One current replica record as the desk's search box sees it (kept by the receivers
    of fallback.replica.signals; SQLite searches it through FTS5, PostgreSQL through
    pg_trgm — see fallback.desk.search)."""

    record = models.OneToOneField(
        "replica.Record", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    entity = models.CharField(max_length=20)
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    text = models.TextField(help_text="Lower-case words that find it")

    class Meta:
        indexes = [
            models.Index(fields=["org", "entity", "key"]),
            # Titles starting with the first word typed, found by range, not by a scan.
            models.Index(F("org"), Lower("title"), name="desk_search_title"),
        ]


class SearchWord(OrgOwned):
    """A word of a search entry's title and its one-letter deletions (SymSpell), so a typo
    in the search box ("smtih") finds the word it was meant to be ("smith"): the two share
    a deletion ("smih")."""

    variant = models.CharField(max_length=32)
    word = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "variant", "word"], name="desk_search_word"),
        ]
