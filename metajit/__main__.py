"""``python -m metajit``: the ``metajit`` command."""
import sys

from metajit.cli import main

sys.exit(main())
