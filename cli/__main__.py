import sys

from modgap.main import main

sys.exit(main())
