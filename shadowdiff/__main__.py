import sys

from shadowdiff.cli import main

sys.exit(main())
