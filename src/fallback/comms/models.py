"""Telling customers, suppliers and staff: the organisation's sending set-up, its templates,
the notices composed for an incident, and the outbox that delivers them one by one.

An OutboxItem is one message to one address on one channel. The unique constraint on
(notice, channel, address) is what makes "each recipient gets a notice at most once" hold
whatever happens upstream (a double click, a retried API call, two workers).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from fallback.accounts.models import Organisation
from fallback.accounts.scoping import OrgOwned


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    CHAT = "chat", "Chat"


class Phase(models.TextChoices):
    FIRST_NOTICE = "first_notice", "First notice"
    UPDATE = "update", "Update"
    RESOLVED = "resolved", "Resolved"
    FOLLOW_UP = "follow_up", "Follow-up apology"


class SmtpSecurity(models.TextChoices):
    STARTTLS = "starttls", "STARTTLS (usually port 587)"
    TLS = "tls", "TLS from the start (usually port 465)"
    NONE = "none", "None (a relay on the local network only)"


class CommsSettings(models.Model):
    """How an organisation's notices go out, and the routes customers can use meanwhile.

    The backup SMTP account is deliberately not the business's usual mail: that may be the
    very system that is down. Its password is never stored in clear: either the name of an
    environment variable that holds it, or sealed (fallback.sealing)."""

    org = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="comms")
    smtp_host = models.CharField("SMTP server", max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField("SMTP port", default=587)
    smtp_security = models.CharField(
        "Security", max_length=10, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    smtp_username = models.CharField("User name", max_length=200, blank=True)
    smtp_password_env = models.CharField(
        "Password from environment variable",
        max_length=100,
        blank=True,
        help_text="The name of an environment variable that holds the password",
    )
    smtp_password_sealed = models.TextField(blank=True, help_text="Sealed (fallback.sealing)")
    from_address = models.EmailField("From address", blank=True)
    from_name = models.CharField("From name", max_length=120, blank=True)
    reply_to = models.EmailField("Reply-to address", blank=True)

    # The routes customers can use while the usual ones are down.
    phone_numbers = models.TextField(
        blank=True, help_text="Numbers customers can call now, one per line"
    )
    backup_email = models.EmailField(
        "Backup email address", blank=True, help_text="An address that is not on the usual mail"
    )
    status_url = models.URLField("Status page", blank=True)
    usual_email = models.EmailField(
        "Usual email address",
        blank=True,
        help_text="Where customers normally write (its domain is the one that may be down)",
    )
    usual_phone = models.CharField("Usual phone number", max_length=60, blank=True)
    email_systems = models.ManyToManyField(
        "monitor.System",
        blank=True,
        related_name="+",
        help_text="The systems the business's usual email depends on",
    )
    phone_systems = models.ManyToManyField(
        "monitor.System",
        blank=True,
        related_name="+",
        help_text="The systems the business's usual phone line depends on",
    )

    affected_window_days = models.PositiveSmallIntegerField(
        default=30, help_text="Affected customers: open orders, or invoices of this many days"
    )
    email_per_second = models.FloatField(default=500.0)
    sms_per_second = models.FloatField(default=1.0)
    chat_per_second = models.FloatField(default=1.0)
    stall_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Alert staff when due messages wait this long with no progress"
    )
    drill_recipients = models.TextField(
        blank=True,
        help_text="During a drill, notices go only to these: email addresses and phone "
        "numbers, one per line",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"comms settings of {self.org}"


class Channel(OrgOwned):
    """An SMS gateway or a chat room, as an apprise URL.

    SMS: the URL names the recipient as {phone} (e.g. twilio://SID:token@+441234567890/{phone})
    and one message goes to each number. Chat: one message per notice to the room. The URL
    often holds a token, so every page but its own edit form shows only its scheme."""

    name = models.CharField(max_length=120)
    kind = models.CharField(
        max_length=8, choices=[(ChannelKind.SMS, "SMS"), (ChannelKind.CHAT, "Chat")]
    )
    url = models.CharField(max_length=1000, help_text="An apprise URL; kept secret")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class OptOut(OrgOwned):
    """An address that asked not to be sent notices (on one channel, or any)."""

    address = models.CharField(max_length=254, help_text="Normalised: lower-case email, +phone")
    channel = models.CharField(
        max_length=8, blank=True, help_text="email, sms, or blank for every channel"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "address", "channel"], name="comms_optout_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.address


class KeyAccount(OrgOwned):
    """A customer who gets a phone call (with a script) rather than, or as well as, email."""

    customer_key = models.CharField(max_length=200, help_text="The customer's key in the replica")
    name = models.CharField(max_length=300, blank=True)
    call_dont_email = models.BooleanField("Call, don't email", default=True)
    phone = models.CharField(max_length=60, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "customer_key"]
        constraints = [
            models.UniqueConstraint(fields=["org", "customer_key"], name="comms_key_account"),
        ]

    def __str__(self) -> str:
        return self.name or self.customer_key


class MessageTemplate(OrgOwned):
    """The words of one audience's notice in one phase, as the five laws' parts."""

    audience = models.CharField(max_length=40)
    phase = models.CharField(max_length=16, choices=Phase.choices)
    subject = models.CharField(max_length=200)
    notify = models.TextField(blank=True)
    explain = models.TextField(blank=True)
    solve = models.TextField(blank=True)
    predict = models.TextField(blank=True)
    apologise = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["audience", "phase"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "audience", "phase"], name="comms_template_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.audience} / {self.phase}"


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent to the outbox"
    STOPPED = "stopped", "Stopped"


class Notice(OrgOwned):
    """A message composed for an incident, to one audience, in one phase."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="notices"
    )
    audience = models.CharField(max_length=40)
    phase = models.CharField(max_length=16, choices=Phase.choices)
    channels = models.JSONField(default=list, help_text="email, sms, chat")
    subject = models.CharField(max_length=200)
    notify = models.TextField(blank=True)
    explain = models.TextField(blank=True)
    solve = models.TextField(blank=True)
    predict = models.TextField(blank=True)
    apologise = models.TextField(blank=True)
    expected_return = models.CharField(
        max_length=200, blank=True, help_text="e.g. “by 3pm tomorrow”; blank if not known"
    )
    next_update_by = models.CharField(
        max_length=200, blank=True, help_text="When the next update will come, e.g. “4pm today”"
    )
    status = models.CharField(
        max_length=8, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    is_exercise = models.BooleanField(default=False, help_text="Copied from the incident")
    acknowledged = models.JSONField(
        default=list, blank=True, help_text="Checker findings a person chose to send anyway"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="The audience when sent")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request_key = models.CharField(
        max_length=80, blank=True, help_text="Idempotency key of its creation"
    )
    send_key = models.CharField(
        max_length=80, blank=True, help_text="Idempotency key of its sending"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "request_key"],
                condition=~Q(request_key=""),
                name="comms_notice_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} to {self.audience}"


class ItemState(models.TextChoices):
    QUEUED = "queued", "Queued"
    CLAIMED = "claimed", "Claimed by a sender"
    SENDING = "sending", "Being handed over"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    UNKNOWN = "unknown", "May have been sent — check"
    CANCELLED = "cancelled", "Stopped before sending"


class OutboxItem(OrgOwned):
    """One message to one address on one channel.

    queued → claimed (a sender took it; nothing handed over yet) → sending (the message is
    with the server, its answer not yet recorded) → sent | failed | bounced, or back to
    queued for a retry. A sender that dies leaves `claimed` items, which go back to the
    queue, and at most one `sending` item per connection, which becomes `unknown`: it may
    have gone, so it is never sent again without a person deciding."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="items")
    channel = models.CharField(max_length=8, choices=ChannelKind.choices)
    via = models.ForeignKey(
        Channel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The SMS or chat channel",
    )
    address = models.CharField(max_length=254, help_text="Normalised")
    recipient_name = models.CharField(max_length=300, blank=True)
    recipient_key = models.CharField(max_length=220, blank=True)
    subject = models.CharField(max_length=250, blank=True)
    body = models.TextField()
    is_exercise = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=120, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    server_reply = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=250, blank=True)
    compensation = models.ForeignKey(
        "Compensation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
        help_text="The customer's compensation this message carries (a follow-up)",
    )
    unsubscribe_url = models.CharField(
        max_length=500, blank=True, help_text="One-click unsubscribe (List-Unsubscribe)"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "channel", "address"], name="comms_item_once"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="comms_item_due"),
            models.Index(fields=["notice", "state"], name="comms_item_notice_state"),
            models.Index(fields=["claimed_by", "state"], name="comms_item_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address} ({self.state})"


class CallOutcome(models.TextChoices):
    SPOKE = "spoke", "Spoke to them"
    MESSAGE = "message", "Left a message"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"


class CallRecord(OrgOwned):
    """One call to a key account about a notice: who answered, when, what was said."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="calls")
    key_account = models.ForeignKey(
        KeyAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    customer_key = models.CharField(max_length=200)
    customer_name = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=12, choices=CallOutcome.choices)
    spoke_to = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"call to {self.customer_name or self.customer_key}: {self.outcome}"


# ------------------------------------------------------------------ the status page


class PublicStatus(models.TextChoices):
    """An incident's state as the public status page says it (Statuspage's words)."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"


class StatusPage(OrgOwned):
    """An organisation's public status page: what it shows, where it is published, and how
    the last publishing went.

    Published to a folder and/or an S3-compatible bucket — somewhere that is not the host
    that is down. The bucket's credentials are the names of environment variables (as the
    vault's destinations), or the secret key typed once and sealed (fallback.sealing)."""

    title = models.CharField(max_length=200, blank=True, help_text="Blank: “<business> status”")
    public_url = models.URLField(
        "Public address", blank=True, help_text="Where people read the published page"
    )
    fallback_url = models.URLField(
        "Fallback's public address",
        blank=True,
        help_text="How people outside reach this Fallback (for the subscribe form and the "
        "links in emails); blank: the page shows no subscribe link",
    )
    folder_path = models.CharField(
        "Folder", max_length=500, blank=True, help_text="Publish into this folder"
    )
    s3_endpoint_url = models.CharField("S3 endpoint", max_length=300, blank=True)
    s3_bucket = models.CharField("Bucket", max_length=63, blank=True)
    s3_prefix = models.CharField("Prefix", max_length=200, blank=True)
    s3_region = models.CharField("Region", max_length=40, blank=True)
    s3_access_key_env = models.CharField(
        "Access key from environment variable", max_length=100, blank=True
    )
    s3_secret_key_env = models.CharField(
        "Secret key from environment variable", max_length=100, blank=True
    )
    s3_access_key_id = models.CharField("Access key id", max_length=200, blank=True)
    s3_secret_key_sealed = models.TextField(blank=True, help_text="Sealed (fallback.sealing)")
    allow_subscribers = models.BooleanField(
        "Let people subscribe", default=True, help_text="Email updates, with double opt-in"
    )
    history_days = models.PositiveSmallIntegerField(
        default=14, help_text="Resolved incidents shown for this many days"
    )
    # Publishing: `publish_due_at` is set by every change; a worker claims it in a
    # conditional UPDATE (clearing it), so two workers never publish the same change twice.
    publish_due_at = models.DateTimeField(null=True, blank=True)
    publish_attempts = models.PositiveSmallIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    published_digest = models.CharField(max_length=64, blank=True)
    published_to = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org"], name="comms_status_page_org")]

    def __str__(self) -> str:
        return f"status page of {self.org}"


class StatusComponent(OrgOwned):
    """A system shown on the public page, under its public name."""

    system = models.ForeignKey("monitor.System", on_delete=models.CASCADE, related_name="+")
    name = models.CharField("Public name", max_length=120)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "system"], name="comms_component_system"),
        ]

    def __str__(self) -> str:
        return self.name


class StatusUpdate(OrgOwned):
    """One published update of an incident on the status page: its state and what staff
    wrote. Each is emailed to the subscribers of the systems it affects."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="status_updates"
    )
    status = models.CharField(max_length=16, choices=PublicStatus.choices)
    body = models.TextField()
    is_exercise = models.BooleanField(default=False, help_text="Copied from the incident")
    systems = models.JSONField(default=list, help_text="The affected systems' ids when posted")
    notice = models.ForeignKey(
        Notice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The email to subscribers, through the outbox",
    )
    from_notice = models.ForeignKey(
        Notice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="status_updates",
        help_text="The notice it was posted with",
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request_key = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "request_key"],
                condition=~Q(request_key=""),
                name="comms_status_update_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.body[:40]}"


class Subscriber(OrgOwned):
    """Someone who asked for the status page's updates by email.

    Double opt-in: nothing is sent but the confirmation until they follow its link. The
    address is normalised (lower-case), one row per address; unsubscribing keeps the row
    (with `unsubscribed_at`) so a second subscribe starts the opt-in afresh."""

    email = models.CharField(max_length=254, help_text="Normalised")
    all_systems = models.BooleanField(default=True)
    systems = models.ManyToManyField("monitor.System", blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_from = models.CharField(max_length=64, blank=True, help_text="IP address")
    requested_systems = models.JSONField(
        null=True, blank=True, help_text="The system ids asked for last; null: every system"
    )
    links_base = models.CharField(
        max_length=300, blank=True, help_text="The address the form was used at"
    )
    confirm_due_at = models.DateTimeField(
        null=True, blank=True, help_text="A confirmation email waits to be sent"
    )
    confirm_attempts = models.PositiveSmallIntegerField(default=0)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    confirm_error = models.TextField(blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["org", "email"], name="comms_subscriber_email"),
        ]
        indexes = [models.Index(fields=["confirm_due_at"], name="comms_subscriber_due")]

    def __str__(self) -> str:
        return self.email

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


# ------------------------------------------------------------------ after: compensation


class OfferKind(models.TextChoices):
    LIST = "list", "Discount codes from your list"
    GENERATED = "generated", "Discount codes made by Fallback"
    FREE_SHIPPING = "free_shipping", "Free shipping"
    TEXT = "text", "An offer in words (no code)"


class Offer(OrgOwned):
    """What an incident's follow-up gives each affected customer to make up for the outage.

    One per incident: a customer gets at most one compensation per incident, whichever
    follow-up notice carries it."""

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="offer"
    )
    kind = models.CharField(max_length=16, choices=OfferKind.choices)
    description = models.CharField(
        max_length=300, help_text="What it is, e.g. “15% off your next order, until 31 January”"
    )
    prefix = models.CharField(
        max_length=20, blank=True, help_text="Made codes start with this, e.g. SORRY"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"


class DiscountCode(OrgOwned):
    """One discount code, from a list the shop gave or made by Fallback. A code is unique in
    its organisation, so it can never be in two lists, and given at most once (the one
    Compensation that points at it)."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=64)
    line = models.PositiveIntegerField(null=True, blank=True, help_text="In the uploaded list")
    generated = models.BooleanField(default=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "code"], name="comms_code_once"),
        ]

    def __str__(self) -> str:
        return self.code


class Compensation(OrgOwned):
    """What one customer was given for one incident: the offer, their code, when, and the
    notice that first carried it. Made in the same transaction that queues the messages,
    before any is written, so a message never names a code that is not recorded here."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="given")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    customer_key = models.CharField(
        max_length=220, help_text="The customer's key in the replica; drill:ADDRESS in a drill"
    )
    customer_name = models.CharField(max_length=300, blank=True)
    code = models.OneToOneField(
        DiscountCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="given_to",
    )
    code_text = models.CharField(max_length=64, blank=True, help_text="The code as sent")
    notice = models.ForeignKey(
        Notice, on_delete=models.SET_NULL, null=True, blank=True, related_name="compensations"
    )
    given_at = models.DateTimeField(default=timezone.now)
    is_exercise = models.BooleanField(default=False, help_text="A drill's test code")
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["customer_name", "customer_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "customer_key"], name="comms_compensation_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_name or self.customer_key}: {self.code_text or self.offer}"
