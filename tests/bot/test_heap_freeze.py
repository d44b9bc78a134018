"""``gc_freeze``: a started bot's objects are out of full collections until it stops."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kryten_actors import Bot, ChannelActor
from kryten_actors.bot.heap_freeze import HeapFreeze
from kryten_actors.config import KrytenConfig
from kryten_actors.transport.memory import MemoryTransport
from tests.bot.conftest import bot_config


class Idle(ChannelActor):
    pass


def scanned(obj: object) -> bool:
    """True while full collections look at ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


@pytest.fixture(autouse=True)
def unfrozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts and ends with nothing frozen (freezing is process-wide)."""
    monkeypatch.setattr(HeapFreeze, "_holders", 0)  # a bot another test left running
    gc.unfreeze()
    yield
    leftover = gc.get_freeze_count()
    gc.unfreeze()
    assert leftover == 0, "a test left objects frozen"


def test_freezing_takes_live_objects_out_of_collections_until_released() -> None:
    alive: list[object] = []
    heap = HeapFreeze()
    frozen = heap.freeze()
    assert frozen == gc.get_freeze_count() > 0
    assert not scanned(alive)
    assert heap.freeze() == frozen  # a second freeze of the same holder changes nothing
    made_later: list[object] = []
    assert scanned(made_later)
    heap.release()
    assert gc.get_freeze_count() == 0
    assert scanned(alive)
    heap.release()  # idempotent


def test_the_heap_is_unfrozen_when_the_last_holder_lets_go() -> None:
    first, second = HeapFreeze(), HeapFreeze()
    first.freeze()
    second.freeze()
    first.release()
    assert gc.get_freeze_count() > 0
    second.release()
    assert gc.get_freeze_count() == 0


def test_a_freeze_made_by_someone_else_first_is_left_to_them() -> None:
    gc.freeze()
    theirs = gc.get_freeze_count()
    heap = HeapFreeze()
    heap.freeze()
    heap.release()
    assert gc.get_freeze_count() >= theirs
    gc.unfreeze()
    mine = HeapFreeze()  # the next holder decides afresh
    mine.freeze()
    mine.release()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("enabled", [True, False])
async def test_a_bot_freezes_its_heap_once_started_and_unfreezes_it_at_stop(
    enabled: bool,
) -> None:
    memory = MemoryTransport()
    await memory.connect()
    config = bot_config("seed", [("cytu.be", "lounge")], gc_freeze=enabled)
    assert config.gc_freeze is enabled
    bot = Bot(config, actor=Idle, transport=memory)
    assert gc.get_freeze_count() == 0  # nothing before start
    async with bot:
        assert bot.heap.held is enabled
        assert scanned(bot) is not enabled
        assert (gc.get_freeze_count() > 0) is enabled
    assert gc.get_freeze_count() == 0
    assert scanned(bot)
    await memory.close()


def test_gc_freeze_is_on_by_default() -> None:
    assert KrytenConfig().gc_freeze is True
    # the tests' config and the test harness turn it off (a full collection per start)
    assert bot_config("seed", [("cytu.be", "lounge")]).gc_freeze is False
