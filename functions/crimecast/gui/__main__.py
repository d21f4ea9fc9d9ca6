import sys

from crimecast.gui.cli import main

sys.exit(main())
