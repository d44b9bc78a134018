"""A bot as a NATS micro service: ``$SRV.PING|INFO|STATS``, ``health`` and ``control``.

:func:`start_health_service` registers a `NATS micro`_ service on a connected
:class:`~kryten_actors.transport.nats.NatsTransport`. Standard tooling (``nats micro ls``,
``nats micro stats NAME``) then finds the bot. Endpoints:

- ``health`` on :func:`health_subject` (``kryten.health.{name}``): any one instance of the
  service answers; ``member-health`` on ``kryten.health.{name}.{id}``: that instance.
- ``control`` and ``member-control`` likewise on ``kryten.control.{name}[.{id}]``, only
  when a control handler is given.

Every reply is kept under the server's ``max_payload``: the handlers get a byte budget,
and a reply that still does not fit becomes a service error instead of a lost request.
The ``health`` endpoint's entry in ``$SRV.STATS`` carries a bounded ``data`` (the bot's
summary), so ``$SRV.STATS`` fits too.

.. _NATS micro: https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-32.md
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Final, Self

from nats import errors as nats_errors
from nats.micro.request import Request
from nats.micro.service import EndpointConfig, EndpointStats, Service, ServiceConfig

from kryten_actors.errors import KrytenConnectionError, KrytenError, KrytenValidationError
from kryten_actors.transport.nats import NatsTransport

__all__ = [
    "CONTROL_ENDPOINT",
    "HEADER_ROOM",
    "HEALTH_ENDPOINT",
    "EndpointError",
    "HealthService",
    "control_subject",
    "health_subject",
    "service_version",
    "start_health_service",
]

log = logging.getLogger(__name__)

HEALTH_ENDPOINT: Final = "health"
"""Name of the micro endpoint that answers with the health report."""
CONTROL_ENDPOINT: Final = "control"
"""Name of the micro endpoint that restarts, stops, joins and leaves channels."""
HEADER_ROOM: Final = 1024
"""Bytes of ``max_payload`` left for a reply's headers and the ``$SRV.STATS`` envelope."""
_STATS_LIMIT: Final = 64 * 1024  # the health data in $SRV.STATS never needs more
_HEALTH_PREFIX: Final = "kryten.health"
_CONTROL_PREFIX: Final = "kryten.control"
_SEMVER_CORE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(.*)$")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_STOP_TIMEOUT = 2.0
"""Seconds ``stop()`` waits for the server to confirm the service's unsubscribes."""
_JSON: Final = {"Content-Type": "application/json"}

HealthHandler = Callable[[bytes, int], bytes]
"""``(request body, reply budget in bytes) -> JSON reply`` of at most the budget."""
StatsHandler = Callable[[int], Mapping[str, Any]]
"""``(budget in bytes) -> JSON-able data`` for the health endpoint's ``$SRV.STATS`` entry."""
ControlHandler = Callable[[bytes], Awaitable[bytes]]
"""``(request body) -> JSON reply``; runs on the event loop, may take a while."""


class EndpointError(KrytenError):
    """Raised by an endpoint handler: the requester gets a NATS micro error with ``code``.

    Codes follow HTTP: 400 a bad request, 403 not allowed, 404 no such thing, 409 a
    conflict with the current state, 503 not available now.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def health_subject(name: str) -> str:
    """The subject a bot whose ``service_name`` is ``name`` answers health requests on."""
    return f"{_HEALTH_PREFIX}.{name}"


def control_subject(name: str) -> str:
    """The subject a bot whose ``service_name`` is ``name`` takes control requests on."""
    return f"{_CONTROL_PREFIX}.{name}"


def service_version(version: str) -> str:
    """``version`` as the semantic version NATS micro requires.

    PEP 440 versions that are not semver (``0.1.0.dev3``, ``1.2``) keep their numbers;
    the rest moves into semver build metadata (``0.1.0+dev3``).
    """
    match = _SEMVER_CORE.match(version)
    if match is None:
        numbers = [int(n) for n in re.findall(r"\d+", version)[:3]]
        numbers += [0] * (3 - len(numbers))
        return ".".join(map(str, numbers))
    major, minor, patch, rest = match.groups()
    core = f"{int(major)}.{int(minor)}.{int(patch)}"
    extra = re.sub(r"[^0-9A-Za-z.-]", ".", rest.lstrip(".+-")).strip(".")
    extra = re.sub(r"\.{2,}", ".", extra)
    return f"{core}+{extra}" if extra else core


class HealthService:
    """A running micro service; :meth:`stop` (or leaving ``async with``) unregisters it.

    ``id`` is this instance's micro service id; ``subject`` the health endpoint's subject
    (any instance answers) and ``member_subject`` this instance's own.
    """

    def __init__(self, service: Service, *, name: str, subject: str, control: bool) -> None:
        self._service = service
        self.name = name
        self.subject = subject
        self.control = control
        self._stopped = False

    @property
    def id(self) -> str:
        """The instance id NATS micro assigned (``$SRV.PING.{name}.{id}``)."""
        return self._service.id

    @property
    def member_subject(self) -> str:
        """This instance's own health subject, ``kryten.health.{name}.{id}``."""
        return f"{self.subject}.{self.id}"

    @property
    def stopped(self) -> bool:
        return self._stopped

    async def stop(self) -> None:
        """Unsubscribe every service subject. Idempotent.

        Call it before the transport closes; on a connection that is already closed
        it only marks the service stopped (the server dropped the interest anyway).
        """
        if self._stopped:
            return
        self._stopped = True
        # A closed or draining connection has already dropped these subscriptions; a
        # server slow to confirm the unsubscribes (a flood queued ahead of them) must not
        # hold up the shutdown: closing the connection drops them anyway.
        with contextlib.suppress(nats_errors.Error, OSError, TimeoutError):
            await asyncio.wait_for(self._service.stop(), _STOP_TIMEOUT)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def _respond(request: Request, reply: Callable[[], Awaitable[bytes]], limit: int) -> None:
    """Answer ``request`` with ``reply()``, or with a one-line micro error saying why not."""
    try:
        data = await reply()
        if len(data) > limit:
            msg = f"the reply needs {len(data)} bytes but the server's max_payload allows {limit}"
            raise EndpointError(500, msg)
    except EndpointError as exc:
        await _error(request, exc.code, str(exc))
    except KrytenValidationError as exc:
        await _error(request, 400, str(exc))
    except Exception as exc:
        log.exception("service endpoint %s failed", request.subject)
        await _error(request, 500, f"{type(exc).__name__}: {exc}")
    else:
        await request.respond(data, headers=_JSON)


async def _error(request: Request, code: int, message: str) -> None:
    # a header value is one line
    await request.respond_error(str(code), " ".join(message.split()))


async def start_health_service(
    transport: NatsTransport,
    *,
    name: str,
    version: str,
    health: HealthHandler,
    stats: StatsHandler,
    control: ControlHandler | None = None,
    description: str = "kryten-actors bot",
    metadata: Mapping[str, str] | None = None,
) -> HealthService:
    """Register ``name`` as a NATS micro service on ``transport`` (which must be connected).

    ``health(body, budget)`` builds each ``health`` reply (JSON bytes, at most ``budget``
    bytes: ``max_payload`` less :data:`HEADER_ROOM`); ``stats(budget)`` the ``data`` of the
    ``health`` endpoint in ``$SRV.STATS`` replies. Both run on the event loop for each
    request, so keep them cheap. ``control(body)``, when given, answers control requests.
    A handler that raises :class:`EndpointError` gives the requester that code; a
    :class:`KrytenValidationError` gives 400, anything else 500 (and is logged).
    ``version`` may be any PEP 440 version (see :func:`service_version`).

    Returns once the server has registered every subscription. Raises
    :class:`KrytenValidationError` for a name that is not ``[A-Za-z0-9_-]+`` and
    :class:`KrytenConnectionError` when the transport is not connected.
    """
    if not _NAME.fullmatch(name):
        msg = f"service name {name!r} must use only letters, digits, '_' and '-'"
        raise KrytenValidationError(msg, errors=[("service_name", msg)])
    # same layer: the nats-py client stays private to the transport package
    client = transport._client
    if client is None or not client.is_connected:
        msg = "start the health service after the NATS transport connected (await connect())"
        raise KrytenConnectionError(msg)
    subject = health_subject(name)

    def budget() -> int:
        return int(client.max_payload) - HEADER_ROOM

    def endpoint_data(endpoint: EndpointStats) -> Any:
        if endpoint.subject != subject:
            return None
        try:
            return dict(stats(min(_STATS_LIMIT, budget() // 2)))
        except Exception as exc:
            log.exception("health stats of service %r failed", name)
            return {"error": f"{type(exc).__name__}: {exc}"[:500]}

    async def answer_health(request: Request) -> None:
        async def reply() -> bytes:
            return health(request.data, budget())

        await _respond(request, reply, budget())

    async def answer_control(request: Request) -> None:
        assert control is not None

        async def reply() -> bytes:
            return await control(request.data)

        await _respond(request, reply, budget())

    service = Service(
        client,
        ServiceConfig(
            name=name,
            version=service_version(version),
            description=description,
            metadata=dict(metadata or {}),
            stats_handler=endpoint_data,
        ),
    )
    endpoints = [
        EndpointConfig(name=HEALTH_ENDPOINT, handler=answer_health, subject=subject),
        EndpointConfig(
            name=f"member-{HEALTH_ENDPOINT}",
            handler=answer_health,
            subject=f"{subject}.{service.id}",
        ),
    ]
    if control is not None:
        control_at = control_subject(name)
        endpoints += [
            EndpointConfig(name=CONTROL_ENDPOINT, handler=answer_control, subject=control_at),
            EndpointConfig(
                name=f"member-{CONTROL_ENDPOINT}",
                handler=answer_control,
                subject=f"{control_at}.{service.id}",
            ),
        ]
    try:
        await service.start()
        for endpoint in endpoints:
            await service.add_endpoint(endpoint)
        # the endpoints subscribe without a flush; a round trip proves the server has them
        await transport.flush()
    except BaseException:
        with contextlib.suppress(nats_errors.Error, OSError):
            await service.stop()
        raise
    log.info(
        "service %r answering health on %s%s (and $SRV.*)",
        name,
        subject,
        f", control on {control_subject(name)}" if control is not None else "",
    )
    return HealthService(service, name=name, subject=subject, control=control is not None)
