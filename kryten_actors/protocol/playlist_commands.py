"""Commands for the playlist, playback and the channel library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from kryten_actors.protocol.command import Command
from kryten_actors.protocol.results import AddMediaResult

__all__ = [
    "AddMedia",
    "ClearPlaylist",
    "DeleteFromLibrary",
    "DeleteMedia",
    "JumpTo",
    "MoveMedia",
    "PlayNext",
    "SearchLibrary",
    "SetTemp",
    "ShufflePlaylist",
    "Voteskip",
]

NonNegative = Annotated[int, Field(ge=0)]


class AddMedia(Command):
    """Queue media ``media_id`` of provider ``media_type`` (``yt``, ``rt``, ``hl``, ``cu``, …).

    ``position`` is ``"end"`` or ``"next"``; ``temp`` marks it temporary. The kryten-robot
    reply carries the new ``uid`` (:class:`AddMediaResult`); CyTube may still refuse the item
    afterwards with a ``queueFail`` event.
    """

    method = "add_media"
    robot_command = "addvideo"
    min_rank = 1.5
    result_type = AddMediaResult
    seed_keys: ClassVar[Mapping[str, str]] = {
        "type": "media_type",
        "id": "media_id",
        "pos": "position",
        "temp": "temp",
    }
    robot_keys = seed_keys
    media_type: str = Field(pattern=r"^[a-z]{2}$")
    media_id: str = Field(min_length=1)
    position: Literal["end", "next"] = "end"
    temp: bool = True


class DeleteMedia(Command):
    """Remove playlist item ``uid``."""

    method = "delete_media"
    robot_command = "rmvideo"
    min_rank = 2
    uid: int = Field(ge=0)


class MoveMedia(Command):
    """Move item ``uid`` after item ``after`` (a uid), or to ``"prepend"`` / ``"append"``."""

    method = "move_media"
    robot_command = "mvvideo"
    min_rank = 1.5
    robot_keys: ClassVar[Mapping[str, str]] = {"from": "uid", "after": "after"}
    uid: int = Field(ge=0)
    after: NonNegative | Literal["prepend", "append"]


class JumpTo(Command):
    """Play item ``uid`` now. The bridge needs the uid as a *string* (a number fails)."""

    method = "jump_to"
    robot_command = "jump"
    min_rank = 1.5
    uid: int = Field(ge=0)

    def robot_args(self) -> dict[str, Any]:
        return {"uid": str(self.uid)}


class ClearPlaylist(Command):
    """Remove every playlist item."""

    method = "clear_playlist"
    robot_command = "clear"
    min_rank = 2


class ShufflePlaylist(Command):
    """Shuffle the playlist."""

    method = "shuffle_playlist"
    robot_command = "shuffle"
    min_rank = 2


class SetTemp(Command):
    """Set the temporary flag of item ``uid``."""

    method = "set_temp"
    robot_command = "settemp"
    min_rank = 2
    uid: int = Field(ge=0)
    temp: bool = True


class PlayNext(Command):
    """Skip to the next item at once."""

    method = "play_next"
    robot_command = "playNext"
    min_rank = 1.5


class Voteskip(Command):
    """Vote to skip the current item."""

    method = "voteskip"
    robot_command = "voteskip"
    min_rank = 0


class SearchLibrary(Command):
    """Search the channel library (``source="library"``) or YouTube (``"yt"``)."""

    method = "search_library"
    robot_command = "searchLibrary"
    min_rank = 0
    query: str = Field(min_length=1, max_length=200)
    source: Literal["library", "yt"] = "library"


class DeleteFromLibrary(Command):
    """Delete ``media_id`` from the channel library."""

    method = "delete_from_library"
    robot_command = "deleteFromLibrary"
    min_rank = 2
    media_id: str = Field(min_length=1)
