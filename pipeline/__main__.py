"""Entry point for `python -m pipeline`."""

import sys

from pipeline.cli.main import main

sys.exit(main())
