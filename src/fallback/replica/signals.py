"""What the replica tells the rest of Fallback.

`records_applied` is sent inside the transaction that applies a sync, with `sync` and `at`
(the moment its new versions start and its closed ones end), so a receiver's own writes
(the desk's search index) commit or roll back together with the records.
"""

from django.dispatch import Signal

records_applied = Signal()
