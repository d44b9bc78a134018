"""``python -m kryten_actors.cli``: the same as the ``kryten-actors`` console script."""

from __future__ import annotations

import sys

from kryten_actors.cli.main import main

sys.exit(main())
