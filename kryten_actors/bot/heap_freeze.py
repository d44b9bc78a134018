"""Keeping the start-up heap out of CPython's full collections (``gc_freeze``).

A full (generation 2) collection scans every object the collector tracks, and the
event loop waits meanwhile. A started bot holds most of its objects for its whole
life — channel bindings, actors, routing tables, config, pydantic and nats-py — and
measured after start (docs/deployment.md#garbage-collection): 85,000 tracked objects
and 16-22 ms per full collection with 1,000 running channels, 300,000 and 55-65 ms
with 10,000, 1.66 million and 415-450 ms with 100,000 passivated channels. CPython runs
one whenever enough objects survived into the old generation, so a large bot stalls
every channel that long now and then.

``gc.freeze()`` moves every object alive at that moment into a permanent generation
that no collection scans; objects made later are collected as before. The Bot calls
:meth:`HeapFreeze.freeze` once it has started (after a full collection, so only live
objects are frozen) and :meth:`HeapFreeze.release` when it stops. Frozen objects
that later become *cyclic* garbage are kept until then (at most the start-up heap);
objects freed by reference counting are freed as usual.

Freezing is process-wide, so it is counted: the heap is unfrozen when the last bot
that froze it stops, and never if something else had frozen objects before the first
bot did (a pre-fork server, say), whose freeze is theirs to undo.
"""

from __future__ import annotations

import gc
from typing import ClassVar

__all__ = ["HeapFreeze"]


class HeapFreeze:
    """One bot's hold on the process's frozen heap (see the module docstring)."""

    _holders: ClassVar[int] = 0
    _frozen_before: ClassVar[bool] = False  # someone else had frozen objects first

    def __init__(self) -> None:
        self.held = False
        #: Objects in the permanent generation right after this bot froze the heap.
        self.frozen = 0

    def freeze(self) -> int:
        """Collect, then freeze every live object; the number frozen (idempotent)."""
        if self.held:
            return self.frozen
        cls = type(self)
        if cls._holders == 0:
            cls._frozen_before = gc.get_freeze_count() > 0
        gc.collect()
        gc.freeze()
        cls._holders += 1
        self.held = True
        self.frozen = gc.get_freeze_count()
        return self.frozen

    def release(self) -> None:
        """Let go; the last holder unfreezes the heap unless it was frozen before us."""
        if not self.held:
            return
        self.held = False
        cls = type(self)
        cls._holders -= 1
        if cls._holders == 0 and not cls._frozen_before:
            gc.unfreeze()
