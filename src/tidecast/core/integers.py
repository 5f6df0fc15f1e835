"""The integers every database tidecast runs on can store.

An id or a count past :data:`INT_MAX` fits no ``integer`` column (PostgreSQL's is 32-bit
signed): surfaces refuse such numbers as invalid, or treat such an id as not found,
before the database would fail on them.
"""

from __future__ import annotations

INT_MAX = 2**31 - 1
"""The largest value of an ``integer`` column on every database (PostgreSQL's limit)."""
