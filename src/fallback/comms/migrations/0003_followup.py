# Follow-ups with compensation, and SLA-credit claims (filled in by the follow-up work).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0002_status_page"),
    ]

    operations: list[migrations.operations.base.Operation] = []
