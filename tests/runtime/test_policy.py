"""Supervision policy data: backoff formula, validation, child specs."""

from __future__ import annotations

import random

import pytest

from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime.actor import Actor
from kryten_actors.runtime.policy import (
    ChildSpec,
    Directive,
    RestartType,
    SupervisionPolicy,
    default_decider,
)


def test_backoff_doubles_from_min_and_caps_at_max() -> None:
    policy = SupervisionPolicy(min_backoff=0.1, max_backoff=1.0, jitter=0.0)
    delays = [policy.backoff(attempt) for attempt in range(1, 8)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])
    assert policy.backoff(10_000) == 1.0


def test_jitter_stays_within_its_fraction_and_never_exceeds_the_cap() -> None:
    policy = SupervisionPolicy(min_backoff=1.0, max_backoff=4.0, jitter=0.2)
    rng = random.Random(7)
    first = [policy.backoff(1, rng) for _ in range(200)]
    assert all(0.8 <= delay <= 1.2 for delay in first)
    assert len(set(first)) > 100
    capped = [policy.backoff(9, rng) for _ in range(200)]
    assert all(3.2 <= delay <= 4.0 for delay in capped)


def test_defaults_match_the_issue() -> None:
    policy = SupervisionPolicy()
    assert (policy.max_restarts, policy.within_seconds) == (10, 60.0)
    assert (policy.min_backoff, policy.max_backoff, policy.jitter) == (0.1, 30.0, 0.2)
    assert policy.reset_after == 60.0
    assert default_decider(ValueError()) is Directive.RESTART
    spec = ChildSpec("a", Actor)
    assert spec.restart is RestartType.PERMANENT
    assert (spec.shutdown_timeout, spec.mailbox_capacity, spec.handler_timeout) == (5.0, 1000, 30.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_restarts": -1},
        {"within_seconds": 0},
        {"min_backoff": 2.0, "max_backoff": 1.0},
        {"jitter": 1.0},
    ],
)
def test_invalid_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(KrytenValidationError):
        SupervisionPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "a/b"])
def test_child_names_must_be_path_segments(name: str) -> None:
    with pytest.raises(KrytenValidationError):
        ChildSpec(name, Actor)
