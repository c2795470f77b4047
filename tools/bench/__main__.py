"""`python -m tools.bench <benchmark> [--json]`: see `tools/bench/__init__.py`."""

from tools.bench import main

raise SystemExit(main())
