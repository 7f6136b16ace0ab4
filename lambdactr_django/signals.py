"""What the store announces, so that derived data can follow without the store knowing it.

``hits_stored`` is sent after hits were committed that may belong to a past
day: those of a replayed spool and of a buffered batch. ``created_at`` is the
list of their times. The rollups listen to it (lambdactr_django.stats.rollups);
a hit stored the moment it arrives belongs to today, which nothing has rolled up.
"""

from __future__ import annotations

from django.dispatch import Signal

hits_stored = Signal()
