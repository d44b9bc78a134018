"""The dashboard's HTTP side (aiohttp): the page, a live event stream, optional actions.

Routes: ``GET /`` the page; ``GET /static/…`` its script and style (shipped in the
package); ``GET /api/stream`` server-sent events, one message per poll with the fleet
and the channel page the query string asks for; ``GET /api/channels`` the same page
once; ``POST /api/action`` a control request (only with ``allow_actions``).

The page and its assets come from the package; nothing is fetched from elsewhere (the
Content-Security-Policy says so). Bound to loopback, requests whose ``Host`` is not the
dashboard's own are refused (DNS rebinding), and an action needs the per-process token
the page carries, which another site's page cannot read.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import secrets
from importlib import resources
from typing import Any, Final, get_args

from aiohttp import web

from kryten_actors.bot.health_query import Sort
from kryten_actors.config.control import ControlAction
from kryten_actors.dashboard.fleet import Fleet
from kryten_actors.errors import KrytenError, KrytenTimeoutError, PublishError
from kryten_actors.transport.nats_service import control_subject

__all__ = [
    "ACTION_TIMEOUT",
    "PAGE_LIMIT",
    "allow_port",
    "build_app",
    "exposure_warning",
    "is_loopback",
]

log = logging.getLogger("kryten_actors.dashboard")

PAGE_LIMIT: Final = 500
"""The most channel rows one page of the dashboard shows."""
ACTION_TIMEOUT: Final = 60.0
"""Seconds an action may take (a restart drains the channel's mailbox first)."""
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SORTS: Final = frozenset(get_args(Sort))  # what the health endpoint can sort by
_ACTIONS: Final = frozenset(get_args(ControlAction))
_ASSETS: Final = {"app.js": "text/javascript", "app.css": "text/css"}
FLEET: Final = web.AppKey("fleet", Fleet)
CLOSING: Final = web.AppKey("closing", asyncio.Event)
HOSTS: Final = web.AppKey("hosts", set[str])


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, *, allow_actions: bool) -> str | None:
    """What to tell the operator who serves the dashboard beyond loopback (else None)."""
    if is_loopback(host):
        return None
    what = "sees every bot" + (
        " and can restart, stop, join or leave channels" if allow_actions else ""
    )
    return (
        f"serving on {host}: the dashboard has no login, so anyone who can reach it {what}; "
        "prefer 127.0.0.1 behind an SSH tunnel or an authenticating reverse proxy"
    )


def allow_port(app: web.Application, host: str, port: int) -> None:
    """Accept requests for ``host:port`` (and loopback names) once the port is known."""
    app[HOSTS].update(f"{name}:{port}" for name in _LOOPBACK | {host})


def build_app(fleet: Fleet, *, host: str, allow_actions: bool) -> web.Application:
    """The dashboard's aiohttp application, reading ``fleet``; see :func:`allow_port`."""
    handlers = _Handlers(fleet, allow_actions=allow_actions)
    loopback = is_loopback(host)

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if loopback and request.host not in request.app[HOSTS]:
            raise web.HTTPMisdirectedRequest(text="this dashboard answers only on its own address")
        response: web.StreamResponse = await handler(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def on_shutdown(app: web.Application) -> None:
        app[CLOSING].set()
        async with fleet.changed:  # wake the open streams so they end now
            fleet.changed.notify_all()

    app = web.Application(middlewares=[guard])
    app[FLEET] = fleet
    app[CLOSING] = asyncio.Event()
    app[HOSTS] = set()
    app.on_shutdown.append(on_shutdown)
    app.router.add_get("/", handlers.index)
    app.router.add_get("/static/{name}", handlers.asset)
    app.router.add_get("/api/channels", handlers.channels)
    app.router.add_get("/api/stream", handlers.stream)
    app.router.add_post("/api/action", handlers.action)
    return app


class _Handlers:
    """The request handlers of one dashboard."""

    def __init__(self, fleet: Fleet, *, allow_actions: bool) -> None:
        self.fleet = fleet
        self.allow_actions = allow_actions
        self.token = secrets.token_urlsafe(24)
        page = _asset("index.html").replace("{{TOKEN}}", self.token if allow_actions else "")
        self.page = page.replace("{{ACTIONS}}", "on" if allow_actions else "off")

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(text=self.page, content_type="text/html", charset="utf-8")

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _ASSETS:
            raise web.HTTPNotFound
        return web.Response(
            text=_asset(name), content_type=_ASSETS[name], headers={"Cache-Control": "no-cache"}
        )

    async def channels(self, request: web.Request) -> web.Response:
        return web.json_response(await _view(self.fleet, request.query))

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """One ``data:`` message per poll (the first at once) until either side goes away."""
        fleet, closing = self.fleet, request.app[CLOSING]
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        version = -1
        try:
            while not closing.is_set():
                if version == fleet.version:
                    await _next_update(fleet, version, closing)
                    continue
                version = fleet.version
                message = {"fleet": fleet.snapshot(), "view": await _view(fleet, request.query)}
                await response.write(b"data: " + json.dumps(message).encode() + b"\n\n")
        except ConnectionResetError:
            pass  # the browser went away
        return response

    async def action(self, request: web.Request) -> web.Response:
        if not self.allow_actions:
            raise web.HTTPForbidden(text="start the dashboard with --allow-actions to use actions")
        if not secrets.compare_digest(request.headers.get("X-Kryten-Token", ""), self.token):
            raise web.HTTPForbidden(text="missing or wrong action token; reload the page")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="the body must be JSON") from None
        status, reply = await _act(self.fleet, body)
        self.fleet.poke()
        return web.json_response(reply, status=status)


def _asset(name: str) -> str:
    return resources.files("kryten_actors.dashboard").joinpath("static", name).read_text("utf-8")


async def _next_update(fleet: Fleet, version: int, closing: asyncio.Event) -> None:
    """Wait for a newer poll, the server closing, or a keep-alive interval."""
    async with fleet.changed:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(1.0, 4 * fleet.interval)):
                await fleet.changed.wait_for(lambda: fleet.version != version or closing.is_set())


def _query(params: Any) -> dict[str, Any]:
    """The health request of a channel page, from the page's query string."""
    query: dict[str, Any] = {"view": "channels", "worst": 0}
    try:
        query["offset"] = max(0, int(params.get("offset", 0)))
        query["limit"] = min(PAGE_LIMIT, max(1, int(params.get("limit", 100))))
    except ValueError:
        raise web.HTTPBadRequest(text="offset and limit must be integers") from None
    sort = params.get("sort", "name")
    query["sort"] = sort if sort in _SORTS else "name"
    if params.get("desc") in {"0", "1"}:
        query["descending"] = params["desc"] == "1"
    if params.get("degraded") == "1":
        query["degraded"] = True
    for key in ("state", "match"):
        if params.get(key):
            query[key] = str(params[key])[:100]
    return query


async def _view(fleet: Fleet, params: Any) -> dict[str, Any] | None:
    """The channel page the page asks for, from the member it names (or the first)."""
    member = fleet.member(params.get("bot") or None, params.get("member") or None)
    if member is None:
        return None
    query = _query(params)
    view: dict[str, Any] = {"bot": member.name, "member": member.id, "query": query}
    try:
        page = await fleet.ask(member, query)
    except (KrytenError, ValueError) as exc:
        return {**view, "error": str(exc)}
    page.pop("summary", None)
    return {**view, **page}


async def _act(fleet: Fleet, body: Any) -> tuple[int, dict[str, Any]]:
    """Forward one control request to the member that serves the channel."""
    if not isinstance(body, dict) or body.get("action") not in _ACTIONS:
        return 400, {"ok": False, "error": "action must be restart, stop, join or leave"}
    member = fleet.member(body.get("bot"), body.get("member"))
    if member is None:
        return 404, {"ok": False, "error": "no such bot on the bus"}
    request = {k: body[k] for k in ("action", "channel", "domain") if body.get(k) is not None}
    subject = f"{control_subject(member.name)}.{member.id}"
    try:
        reply = await fleet.transport.request(
            subject, json.dumps(request).encode(), timeout=ACTION_TIMEOUT
        )
    except PublishError:
        return 409, {
            "ok": False,
            "error": f"{member.name} has no control endpoint (control.enabled)",
        }
    except KrytenTimeoutError:
        return 504, {
            "ok": False,
            "error": f"{member.name} did not answer within {ACTION_TIMEOUT:g} s",
        }
    headers = reply.headers or {}
    if "Nats-Service-Error" in headers:
        code = headers.get("Nats-Service-Error-Code", "500")
        status = int(code) if code.isdigit() and 400 <= int(code) < 600 else 502
        return status, {"ok": False, "error": headers["Nats-Service-Error"]}
    log.info("dashboard action %s on %s/%s", request, member.name, member.id)
    data: dict[str, Any] = json.loads(reply.data)
    return 200, data
