"""``python -m collector_receiver`` is the ``failcat`` command."""

import sys

from collector_receiver.cli import main

sys.exit(main())
