"""`python -m codesage` runs the command line."""

import sys

from codesage.cli import main

sys.exit(main())
