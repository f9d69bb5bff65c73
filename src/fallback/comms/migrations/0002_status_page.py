# The status page and its subscribers (filled in by the status page work).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0001_initial"),
    ]

    operations: list[migrations.operations.base.Operation] = []
