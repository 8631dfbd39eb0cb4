"""`python -m megawatt.cli`."""

import sys

from megawatt.cli import main

sys.exit(main())
