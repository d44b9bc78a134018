"""Loading the test kit's pytest plugin, with or without its installed entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

PLUGIN = "kryten_actors.testing.plugin"


def plugin_is_installed() -> bool:
    """True when the project installs the plugin as its ``pytest11`` entry point."""
    return any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))


def plugin_args() -> list[str]:
    """pytest arguments that load the plugin in a fresh run (none once it is installed)."""
    return [] if plugin_is_installed() else ["-p", PLUGIN]


def plugins_for_module() -> list[str]:
    """A test module's ``pytest_plugins``: pytester, plus the kit until it is installed.

    Naming the plugin while its entry point loads it too would register it twice, which
    pytest refuses. (It is named in test modules because pytest rejects
    ``pytest_plugins`` in a conftest below the root.)
    """
    return ["pytester"] if plugin_is_installed() else ["pytester", PLUGIN]
