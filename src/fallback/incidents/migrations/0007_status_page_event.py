# The status page's staff alert: "The public status page could not be published".


from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_backup_failed_event"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alertdelivery",
            name="event",
            field=models.CharField(
                choices=[
                    ("suspected", "Suspected outage"),
                    ("declared", "Outage declared"),
                    ("reminder", "Reminder: outage still declared"),
                    ("recovered", "Systems back up"),
                    ("flapping", "A system is flapping"),
                    ("sync_held", "A replica sync was held"),
                    ("sync_failed", "Replica syncs are failing"),
                    ("replica_stale", "The replica is older than its RPO"),
                    ("outbox_stalled", "Notices to customers are stuck in the outbox"),
                    ("plan_stale", "A part of the continuity plan is due for review"),
                    ("backup_failed", "A backup failed or did not verify"),
                    ("status_page", "The public status page could not be published"),
                ],
                max_length=16,
            ),
        ),
    ]
