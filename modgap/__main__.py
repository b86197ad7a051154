import sys

from modgap.cli import main

sys.exit(main())
