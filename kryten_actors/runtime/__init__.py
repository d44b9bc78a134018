"""The actor runtime: bounded mailboxes, actors, supervision trees, timers, dead letters.

Pure asyncio; imports only the standard library, aiojobs and
:mod:`kryten_actors.errors`. Start here::

    from kryten_actors.runtime import Actor, ActorSystem, ChildSpec

    class Greeter(Actor):
        async def receive(self, message):
            return f"hello {message}"

    async with ActorSystem() as system:
        ref = await system.spawn(ChildSpec("greeter", Greeter))
        assert await ref.ask("world") == "hello world"
"""

from kryten_actors.runtime.actor import Actor, ActorContext
from kryten_actors.runtime.clock import (
    Cancellable,
    Clock,
    MonotonicClock,
    VirtualClock,
    sleep_on,
)
from kryten_actors.runtime.deadletters import DeadLetter, DeadLetterReason, DeadLetters
from kryten_actors.runtime.mailbox import Mailbox, OverflowPolicy
from kryten_actors.runtime.policy import (
    ChildSpec,
    Decider,
    Directive,
    RestartType,
    Strategy,
    SupervisionPolicy,
    default_decider,
)
from kryten_actors.runtime.ref import ActorRef
from kryten_actors.runtime.scheduler import Timer
from kryten_actors.runtime.stats import ActorState, ActorStats, ErrorInfo, RuntimeEvent
from kryten_actors.runtime.supervisor import Supervisor
from kryten_actors.runtime.system import ActorSystem

__all__ = [
    "Actor",
    "ActorContext",
    "ActorRef",
    "ActorState",
    "ActorStats",
    "ActorSystem",
    "Cancellable",
    "ChildSpec",
    "Clock",
    "DeadLetter",
    "DeadLetterReason",
    "DeadLetters",
    "Decider",
    "Directive",
    "ErrorInfo",
    "Mailbox",
    "MonotonicClock",
    "OverflowPolicy",
    "RestartType",
    "RuntimeEvent",
    "Strategy",
    "SupervisionPolicy",
    "Supervisor",
    "Timer",
    "VirtualClock",
    "default_decider",
    "sleep_on",
]
