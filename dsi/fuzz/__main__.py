import sys

from dsi.fuzz.run import main

sys.exit(main(sys.argv[1:]))
