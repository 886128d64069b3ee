"""`python -m seekmath …` and `torchrun … -m seekmath …` enter here."""

import sys

from seekmath.cli import main

sys.exit(main())
