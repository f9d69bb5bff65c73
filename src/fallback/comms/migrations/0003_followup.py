# Follow-ups with compensation: the incident's offer, discount codes, and what each customer
# was given (the SLA-credit claims live in the monitor app).
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("comms", "0002_status_page"),
        ("incidents", "0006_backup_failed_event"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Offer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("list", "Discount codes from your list"),
                            ("generated", "Discount codes made by Fallback"),
                            ("free_shipping", "Free shipping"),
                            ("text", "An offer in words (no code)"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "description",
                    models.CharField(
                        help_text="What it is, e.g. “15% off your next order, until 31 January”",
                        max_length=300,
                    ),
                ),
                (
                    "prefix",
                    models.CharField(
                        blank=True,
                        help_text="Made codes start with this, e.g. SORRY",
                        max_length=20,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "incident",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="offer",
                        to="incidents.incident",
                    ),
                ),
                (
                    "org",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="DiscountCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=64)),
                (
                    "line",
                    models.PositiveIntegerField(
                        blank=True, help_text="In the uploaded list", null=True
                    ),
                ),
                ("generated", models.BooleanField(default=False)),
                ("added_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "org",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
                (
                    "offer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="codes",
                        to="comms.offer",
                    ),
                ),
            ],
            options={
                "ordering": ["pk"],
                "constraints": [
                    models.UniqueConstraint(fields=("org", "code"), name="comms_code_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="Compensation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "customer_key",
                    models.CharField(
                        help_text="The customer's key in the replica; drill:ADDRESS in a drill",
                        max_length=220,
                    ),
                ),
                ("customer_name", models.CharField(blank=True, max_length=300)),
                (
                    "code_text",
                    models.CharField(blank=True, help_text="The code as sent", max_length=64),
                ),
                ("given_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "is_exercise",
                    models.BooleanField(default=False, help_text="A drill's test code"),
                ),
                ("redeemed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "code",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="given_to",
                        to="comms.discountcode",
                    ),
                ),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="incidents.incident",
                    ),
                ),
                (
                    "notice",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="compensations",
                        to="comms.notice",
                    ),
                ),
                (
                    "offer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="given",
                        to="comms.offer",
                    ),
                ),
                (
                    "org",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
                (
                    "redeemed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["customer_name", "customer_key"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("incident", "customer_key"), name="comms_compensation_once"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="outboxitem",
            name="compensation",
            field=models.ForeignKey(
                blank=True,
                help_text="The customer's compensation this message carries (a follow-up)",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="items",
                to="comms.compensation",
            ),
        ),
    ]
