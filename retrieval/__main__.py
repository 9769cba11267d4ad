"""python -m retrieval: the developer CLI."""

import sys

from retrieval.cli import main

sys.exit(main())
