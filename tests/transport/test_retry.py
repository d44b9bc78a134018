from __future__ import annotations

import asyncio

import pytest

from kryten_actors.errors import PublishError
from kryten_actors.transport.base import RetryPolicy, TransportStats
from kryten_actors.transport.retry import send_with_retry

POLICY = RetryPolicy(attempts=4, initial_backoff=0.0, max_backoff=0.0)


class NotSent(Exception):
    pass


class Flaky:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


async def run(send: Flaky, stats: TransportStats) -> str:
    return await send_with_retry(
        send, policy=POLICY, stats=stats, subject="s", retryable=(NotSent,), describe=str
    )


async def test_retries_what_did_not_leave_then_succeeds() -> None:
    stats = TransportStats()
    send = Flaky([NotSent("a"), NotSent("b")])
    assert await run(send, stats) == "ok"
    assert send.calls == 3
    assert stats.publish_retries == 2
    assert stats.publish_failures == 0


async def test_gives_up_with_publish_error_and_cause() -> None:
    stats = TransportStats()
    last = NotSent("last")
    send = Flaky([NotSent("1"), NotSent("2"), NotSent("3"), last])
    with pytest.raises(PublishError, match="last") as caught:
        await run(send, stats)
    assert caught.value.__cause__ is last
    assert caught.value.attempts == 4
    assert send.calls == 4
    assert stats.publish_failures == 1


@pytest.mark.parametrize("error", [asyncio.CancelledError(), ValueError("other")])
async def test_never_retries_cancellation_or_other_errors(error: BaseException) -> None:
    stats = TransportStats()
    send = Flaky([error])
    with pytest.raises(type(error)):
        await run(send, stats)
    assert send.calls == 1
    assert stats.publish_retries == 0


async def test_backoff_doubles_up_to_the_maximum() -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(attempts=5, initial_backoff=0.1, max_backoff=0.3)
    send = Flaky([NotSent()] * 4)
    await send_with_retry(
        send,
        policy=policy,
        stats=TransportStats(),
        subject="s",
        retryable=(NotSent,),
        describe=str,
        sleep=fake_sleep,
    )
    assert waits == pytest.approx([0.1, 0.2, 0.3, 0.3])


def test_policy_is_validated() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
