"""A person in the channel, driven over stdin/stdout (runs with the e2e stack's own Python).

    <stack venv>/bin/python tests/e2e/person.py E2E_DIR NAME [PASSWORD]

Joins the channel as ``NAME`` (a guest, or a registered user with ``PASSWORD``) with
``human.py``'s :class:`Human`, prints ``{"ready": name}``, then one JSON line per thing
CyTube shows this person: ``{"chat": {...}}`` (with ``history``), ``{"pm": {...}}``,
``{"error": {...}}``, ``{"kick": {...}}``. Reads JSON commands from stdin:
``{"say": text}``, ``{"pm": [to, text]}``, ``{"quit": true}``.

It is not part of the package: the stack's venv has python-socketio, the project's does not.
"""

import asyncio
import json
import sys


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


async def main() -> None:
    sys.path.insert(0, sys.argv[1])
    from human import Human, _env_default  # noqa: PLC0415 - found only once the path is set

    name = sys.argv[2]
    password = sys.argv[3] if len(sys.argv) > 3 else None
    url = _env_default("CYTUBE_HTTP_URL", "http://localhost:18080")
    channel = _env_default("CYTUBE_CHANNEL", "e2etest")
    person = Human(url, channel, name, password, quiet=True)
    sio = person.sio

    @sio.on("chatMsg")
    async def on_chat(data: dict) -> None:
        history = data.get("time", 0) < person.t0_ms - 2000
        emit({"chat": {**data, "history": history}})

    @sio.on("pm")
    async def on_pm(data: dict) -> None:
        emit({"pm": data})

    @sio.on("errorMsg")
    async def on_error(data: dict) -> None:
        emit({"error": data})

    @sio.on("kick")
    async def on_kick(data: dict) -> None:
        emit({"kick": data})

    await person.join()
    emit({"ready": person.name})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if "say" in command:
            await person.say(command["say"])
        elif "pm" in command:
            to, text = command["pm"]
            await sio.emit("pm", {"to": to, "msg": text, "meta": {}})
        elif command.get("quit"):
            break
    await person.close()


if __name__ == "__main__":
    asyncio.run(main())
