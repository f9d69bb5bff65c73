# The status page and its subscribers.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0001_initial"),
        ("accounts", "0001_initial"),
        ("incidents", "0006_backup_failed_event"),
        ("monitor", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxitem",
            name="unsubscribe_url",
            field=models.CharField(
                blank=True, help_text="One-click unsubscribe (List-Unsubscribe)", max_length=500
            ),
        ),
        migrations.CreateModel(
            name="StatusComponent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120, verbose_name="Public name")),
                ("description", models.CharField(blank=True, max_length=300)),
                ("position", models.PositiveSmallIntegerField(default=0)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "org",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
                (
                    "system",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="monitor.system",
                    ),
                ),
            ],
            options={
                "ordering": ["position", "name", "pk"],
                "constraints": [
                    models.UniqueConstraint(fields=("org", "system"), name="comms_component_system")
                ],
            },
        ),
        migrations.CreateModel(
            name="StatusPage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "title",
                    models.CharField(
                        blank=True, help_text="Blank: “<business> status”", max_length=200
                    ),
                ),
                (
                    "public_url",
                    models.URLField(
                        blank=True,
                        help_text="Where people read the published page",
                        verbose_name="Public address",
                    ),
                ),
                (
                    "fallback_url",
                    models.URLField(
                        blank=True,
                        help_text="How people outside reach this Fallback (for the subscribe form and the links in emails); blank: the page shows no subscribe link",
                        verbose_name="Fallback's public address",
                    ),
                ),
                (
                    "folder_path",
                    models.CharField(
                        blank=True,
                        help_text="Publish into this folder",
                        max_length=500,
                        verbose_name="Folder",
                    ),
                ),
                (
                    "s3_endpoint_url",
                    models.CharField(blank=True, max_length=300, verbose_name="S3 endpoint"),
                ),
                ("s3_bucket", models.CharField(blank=True, max_length=63, verbose_name="Bucket")),
                ("s3_prefix", models.CharField(blank=True, max_length=200, verbose_name="Prefix")),
                ("s3_region", models.CharField(blank=True, max_length=40, verbose_name="Region")),
                (
                    "s3_access_key_env",
                    models.CharField(
                        blank=True,
                        max_length=100,
                        verbose_name="Access key from environment variable",
                    ),
                ),
                (
                    "s3_secret_key_env",
                    models.CharField(
                        blank=True,
                        max_length=100,
                        verbose_name="Secret key from environment variable",
                    ),
                ),
                (
                    "s3_access_key_id",
                    models.CharField(blank=True, max_length=200, verbose_name="Access key id"),
                ),
                (
                    "s3_secret_key_sealed",
                    models.TextField(blank=True, help_text="Sealed (fallback.sealing)"),
                ),
                (
                    "allow_subscribers",
                    models.BooleanField(
                        default=True,
                        help_text="Email updates, with double opt-in",
                        verbose_name="Let people subscribe",
                    ),
                ),
                (
                    "history_days",
                    models.PositiveSmallIntegerField(
                        default=14, help_text="Resolved incidents shown for this many days"
                    ),
                ),
                ("publish_due_at", models.DateTimeField(blank=True, null=True)),
                ("publish_attempts", models.PositiveSmallIntegerField(default=0)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                ("published_digest", models.CharField(blank=True, max_length=64)),
                ("published_to", models.JSONField(blank=True, default=list)),
                ("last_error", models.TextField(blank=True)),
                ("last_error_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
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
                "constraints": [
                    models.UniqueConstraint(fields=("org",), name="comms_status_page_org")
                ],
            },
        ),
        migrations.CreateModel(
            name="StatusUpdate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("investigating", "Investigating"),
                            ("identified", "Identified"),
                            ("monitoring", "Monitoring"),
                            ("resolved", "Resolved"),
                            ("postmortem", "Postmortem"),
                        ],
                        max_length=16,
                    ),
                ),
                ("body", models.TextField()),
                (
                    "is_exercise",
                    models.BooleanField(default=False, help_text="Copied from the incident"),
                ),
                (
                    "systems",
                    models.JSONField(
                        default=list, help_text="The affected systems' ids when posted"
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("request_key", models.CharField(blank=True, max_length=80)),
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
                    "from_notice",
                    models.ForeignKey(
                        blank=True,
                        help_text="The notice it was posted with",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="status_updates",
                        to="comms.notice",
                    ),
                ),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="status_updates",
                        to="incidents.incident",
                    ),
                ),
                (
                    "notice",
                    models.ForeignKey(
                        blank=True,
                        help_text="The email to subscribers, through the outbox",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="comms.notice",
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
                "ordering": ["-created_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("request_key", ""), _negated=True),
                        fields=("org", "request_key"),
                        name="comms_status_update_request",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Subscriber",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.CharField(help_text="Normalised", max_length=254)),
                ("all_systems", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "requested_from",
                    models.CharField(blank=True, help_text="IP address", max_length=64),
                ),
                (
                    "requested_systems",
                    models.JSONField(
                        blank=True,
                        help_text="The system ids asked for last; null: every system",
                        null=True,
                    ),
                ),
                (
                    "links_base",
                    models.CharField(
                        blank=True, help_text="The address the form was used at", max_length=300
                    ),
                ),
                (
                    "confirm_due_at",
                    models.DateTimeField(
                        blank=True, help_text="A confirmation email waits to be sent", null=True
                    ),
                ),
                ("confirm_attempts", models.PositiveSmallIntegerField(default=0)),
                ("confirm_sent_at", models.DateTimeField(blank=True, null=True)),
                ("confirm_error", models.TextField(blank=True)),
                ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                ("unsubscribed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "org",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organisation",
                    ),
                ),
                (
                    "systems",
                    models.ManyToManyField(blank=True, related_name="+", to="monitor.system"),
                ),
            ],
            options={
                "ordering": ["email"],
                "indexes": [models.Index(fields=["confirm_due_at"], name="comms_subscriber_due")],
                "constraints": [
                    models.UniqueConstraint(fields=("org", "email"), name="comms_subscriber_email")
                ],
            },
        ),
    ]
