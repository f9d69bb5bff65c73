"""What the replica tells the rest of Fallback.

`records_applied` is sent inside the transaction that applies a sync, with `sync` and `at`
(the moment its new versions start and its closed ones end). A receiver's writes commit or
roll back with the records; slow work belongs in transaction.on_commit (the desk enqueues
its search indexing there).
"""

from django.dispatch import Signal

records_applied = Signal()
