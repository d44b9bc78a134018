"""The operator's dashboard: every kryten-actors bot on the bus, live, in a browser.

Needs the ``dashboard`` extra (``pip install 'kryten-actors[dashboard]'``, for aiohttp);
``kryten-actors dashboard`` runs it. Only the CLI imports this package.
"""

from kryten_actors.dashboard.fleet import Fleet, Member
from kryten_actors.dashboard.server import Dashboard

__all__ = ["Dashboard", "Fleet", "Member"]
