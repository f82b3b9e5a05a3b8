"""`python -m emobridge` runs the CLI."""

import sys

from emobridge.cli import main

sys.exit(main())
