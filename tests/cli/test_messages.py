"""Every CLI message a new user met that misled them, pinned to what it says now (issue 14, 4)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kryten_actors.cli.health import ask_health
from kryten_actors.cli.main import build_parser, main
from kryten_actors.config import KrytenConfig, NatsConfig
from kryten_actors.errors import KrytenValidationError
from kryten_actors.transport.connect_options import connect_failure_message
from kryten_actors.transport.server import NatsServer

DEMO_ACTOR = "kryten_actors.demo.bot:DemoActor"


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def bot_json(tmp_path: Path) -> Path:
    return write(
        tmp_path / "bot.json",
        {
            "nats": {"servers": ["nats://127.0.0.1:4222"]},
            "channels": [{"domain": "cytu.be", "channel": "lounge"}],
        },
    )


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path (and the working directory) for the user's own modules."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_class_the_module_lacks_is_named_with_the_ones_it_has(
    bot_json: Path, user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (user_module / "mybot_nosuch.py").write_text(
        "from kryten_actors import ChannelActor\n\nclass Dice(ChannelActor):\n    pass\n",
        encoding="utf-8",
    )
    assert main(["run", str(bot_json), "--actor", "mybot_nosuch:NoSuch"]) == 1
    err = capsys.readouterr().err
    assert "--actor: module 'mybot_nosuch' has no 'NoSuch'; it defines Dice" in err
    assert "not a ChannelActor subclass" not in err


def test_a_missing_dependency_is_named_not_pythonpath(
    bot_json: Path, user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (user_module / "mybot_dep.py").write_text(
        "import kryten_test_no_such_dependency\n", encoding="utf-8"
    )
    assert main(["run", str(bot_json), "--actor", "mybot_dep:Dice"]) == 1
    err = capsys.readouterr().err
    assert (
        "--actor: module 'mybot_dep' was found, but importing it failed: it imports "
        "'kryten_test_no_such_dependency', which is not installed; install it" in err
    )
    assert "PYTHONPATH" not in err


def test_a_module_that_raises_on_import_says_where(
    bot_json: Path, user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (user_module / "mybot_broken.py").write_text("x = 1\ny = undefined_name\n", encoding="utf-8")
    assert main(["run", str(bot_json), "--actor", "mybot_broken:Dice"]) == 1
    err = capsys.readouterr().err
    assert "importing module 'mybot_broken' raised NameError" in err
    assert "mybot_broken.py, line 2" in err


def test_a_module_that_does_not_exist_says_so(
    bot_json: Path, user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(bot_json), "--actor", "mybot_absent:Dice"]) == 1
    assert "--actor: there is no module named 'mybot_absent'" in capsys.readouterr().err


def test_no_actor_hint_speaks_of_the_actor_option(
    bot_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(bot_json)]) == 1
    err = capsys.readouterr().err
    assert "no actor class for channel cytu.be/lounge: pass --actor MODULE:CLASS" in err
    assert "Bot(config" not in err


def test_credentials_in_the_url_are_not_called_missing() -> None:
    config = NatsConfig(servers=["nats://bot:s3cret@127.0.0.1:4222"])
    message = connect_failure_message(config, ConnectionRefusedError("refused"))
    assert "the credentials in the server URL" in message
    assert "none are configured" not in message
    assert "s3cret" not in message
    bare = connect_failure_message(NatsConfig(), ConnectionRefusedError("refused"))
    assert "(none are configured)" in bare


class SlowStart:
    """A loopback proxy to ``upstream`` that holds every connection ``delay`` s first."""

    def __init__(self, upstream: int, delay: float) -> None:
        self.upstream = upstream
        self.delay = delay
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        await asyncio.sleep(self.delay)  # the slow network this proxy stands for
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"nats://127.0.0.1:{port}"
        finally:
            server.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for writer in self._writers:
                writer.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await writer.wait_closed()
            await server.wait_closed()


@pytest.mark.slow
async def test_health_timeout_bounds_the_whole_attempt(nats_server: NatsServer) -> None:
    # connecting takes 2 s of the 3 s: the request gets the rest, not 3 s more
    async with SlowStart(nats_server.port, delay=2.0).running() as url:
        started = time.monotonic()
        with pytest.raises(Exception, match=r"answered on .* within 3 s") as caught:
            await ask_health(url, "nobody-here", timeout=3.0)
        took = time.monotonic() - started
    assert type(caught.value).__name__ == "NoAnswer"
    # was 5 s and more (3 s of connect + 3 s of request); closing may add 0.5 s
    assert took < 4.2, took


@pytest.mark.slow
def test_run_connect_timeout_bounds_the_attempt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kryten_actors.transport.server import free_port  # noqa: PLC0415

    url = f"nats://127.0.0.1:{free_port()}"
    path = write(
        tmp_path / "bot.json",
        {
            "nats": {"servers": [url], "connect_timeout": 2},
            "channels": [{"domain": "cytu.be", "channel": "lounge"}],
            "actor": DEMO_ACTOR,
        },
    )
    started = time.monotonic()
    assert main(["run", str(path)]) == 1
    took = time.monotonic() - started
    assert f"could not connect to NATS at {url} within 2 s" in capsys.readouterr().err
    assert took < 2 + 2.0, took  # the timeout, plus closing the abandoned client (1 s)


def test_health_names_the_option_not_the_config_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--nats", "bad", "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert "--nats: must start with nats:// or tls://" in err
    assert "servers.0" not in err
    assert "NatsConfig" not in err


@pytest.mark.parametrize("level", ["debug", "Info", "WARNING", "error"])
def test_log_level_takes_any_case(level: str) -> None:
    args = build_parser(["run"]).parse_args(["run", "bot.yaml", "--log-level", level])
    assert args.log_level == level.upper()


def test_a_bad_log_level_lists_the_levels(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser(["run"]).parse_args(["run", "bot.yaml", "--log-level", "loud"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'loud' is not a log level; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in err


@pytest.mark.parametrize("seconds", ["-3", "0", "nan"])
def test_demo_refuses_a_duration_that_is_not_positive(
    seconds: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--seconds", seconds])
    assert exit_.value.code == 2
    assert "--seconds: must be more than 0 seconds" in capsys.readouterr().err


def test_an_empty_config_warns_that_no_channel_is_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert main(["check", str(empty)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {empty} lists no channels" in err
    assert "the bot will receive no events" in err


def test_check_header_names_the_file_for_a_missing_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KRYTEN_TEST_UNSET", raising=False)
    path = tmp_path / "env.yaml"
    path.write_text("nats:\n  user: bot\n  password: ${KRYTEN_TEST_UNSET}\n", encoding="utf-8")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"invalid configuration in {path} (1 error)" in err
    assert "nats.password: environment variable KRYTEN_TEST_UNSET is not set" in err


def test_wrong_types_show_the_right_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "types.yaml"
    path.write_text(
        'nats:\n  servers: "nats://127.0.0.1:4222"\nchannels: {domain: cytu.be}\n'
        "mailbox: {capacity: lots}\nmetrics: yes-please\n",
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "nats.servers: must be a list, for example servers: [nats://127.0.0.1:4222]" in err
    assert (
        "channels: must be a list, for example channels: [{domain: cytu.be, channel: lounge}]"
        in err
    )
    assert "mailbox.capacity: must be a whole number, for example 10" in err
    assert "metrics: must be a mapping of keys" in err
    assert "Input should be" not in err


def test_jitter_of_one_is_refused_as_documented() -> None:
    with pytest.raises(KrytenValidationError, match=r"supervision\.jitter: must be less than 1"):
        KrytenConfig.from_dict({"supervision": {"jitter": 1}})
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `jitter`"))
    assert "0 ≤ jitter < 1" in row
    assert "accepts" not in row
