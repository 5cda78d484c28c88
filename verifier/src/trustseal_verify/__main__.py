import sys

from trustseal_verify.cli import main

sys.exit(main())
