"""`python -m megawatt`."""

import sys

from megawatt.cli import main

sys.exit(main())
