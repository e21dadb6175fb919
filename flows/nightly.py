"""The nightly Prefect flow, for Prefect deployments (`prefect deploy flows/nightly.py:nightly`) and `python -m`.

The logic lives in vitrine.nightly (steps, settings, the flow and its tasks); `vitrine nightly` and `vitrine serve`
are the usual ways to run and schedule it.

    python flows/nightly.py [--date YYYY-MM-DD] [--landing DIR] [--warehouse FILE]   # same as `vitrine nightly`
"""

from __future__ import annotations

import os
import sys

from vitrine.config import warehouse_path
from vitrine.nightly.settings import configure_prefect

configure_prefect(warehouse_path(os.environ.get("VITRINE_WAREHOUSE")))  # before Prefect is imported

from vitrine.nightly.flow import nightly  # noqa: E402

__all__ = ["nightly"]

if __name__ == "__main__":
    from vitrine.cli import main

    sys.exit(main(["nightly", *sys.argv[1:]]))
