"""A bot as a NATS micro service: discoverable with ``$SRV.PING|INFO|STATS``, plus ``health``.

:func:`start_health_service` registers a `NATS micro`_ service on a connected
:class:`~kryten_actors.transport.nats.NatsTransport`. Standard tooling (``nats micro ls``,
``nats micro stats NAME``) then finds the bot; the ``health`` endpoint on
:func:`health_subject` answers with the bot's full health report as JSON, and the
endpoint's entry in ``$SRV.STATS`` carries per-channel actor stats in its ``data``.

.. _NATS micro: https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-32.md
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Final, Self

from nats import errors as nats_errors
from nats.micro.request import Request
from nats.micro.service import EndpointConfig, EndpointStats, Service, ServiceConfig

from kryten_actors.errors import KrytenConnectionError, KrytenValidationError
from kryten_actors.transport.nats import NatsTransport

__all__ = [
    "HEALTH_ENDPOINT",
    "HealthService",
    "health_subject",
    "service_version",
    "start_health_service",
]

log = logging.getLogger(__name__)

HEALTH_ENDPOINT: Final = "health"
"""Name of the micro endpoint that answers with the health report."""
_HEALTH_PREFIX: Final = "kryten.health"
_SEMVER_CORE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(.*)$")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def health_subject(name: str) -> str:
    """The subject a bot whose ``service_name`` is ``name`` answers health requests on."""
    return f"{_HEALTH_PREFIX}.{name}"


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

    ``id`` is this instance's micro service id; ``subject`` the health endpoint's subject.
    """

    def __init__(self, service: Service, *, name: str, subject: str) -> None:
        self._service = service
        self.name = name
        self.subject = subject
        self._stopped = False

    @property
    def id(self) -> str:
        """The instance id NATS micro assigned (``$SRV.PING.{name}.{id}``)."""
        return self._service.id

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
        # A closed or draining connection has already dropped these subscriptions.
        with contextlib.suppress(nats_errors.Error, OSError):
            await self._service.stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def start_health_service(
    transport: NatsTransport,
    *,
    name: str,
    version: str,
    health: Callable[[], bytes],
    stats: Callable[[], Mapping[str, Any]],
    description: str = "kryten-actors bot",
    metadata: Mapping[str, str] | None = None,
) -> HealthService:
    """Register ``name`` as a NATS micro service on ``transport`` (which must be connected).

    ``health()`` builds the body of each ``health`` reply (JSON bytes); ``stats()`` the
    ``data`` of the ``health`` endpoint in ``$SRV.STATS`` replies (JSON-able, e.g.
    per-channel actor stats). Both run on the event loop for each request, so keep them
    cheap; if one raises, the requester gets a NATS micro error reply (code 500).
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

    def endpoint_data(endpoint: EndpointStats) -> Any:
        return dict(stats()) if endpoint.name == HEALTH_ENDPOINT else None

    async def answer(request: Request) -> None:
        await request.respond(health(), headers={"Content-Type": "application/json"})

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
    try:
        await service.start()
        await service.add_endpoint(
            EndpointConfig(name=HEALTH_ENDPOINT, handler=answer, subject=subject)
        )
        # the endpoint subscribes without a flush; a round trip proves the server has it
        await transport.flush()
    except BaseException:
        with contextlib.suppress(nats_errors.Error, OSError):
            await service.stop()
        raise
    log.info("health service %r answering on %s (and $SRV.*)", name, subject)
    return HealthService(service, name=name, subject=subject)
