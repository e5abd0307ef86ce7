#!/usr/bin/env python3
"""`make loadtest`: fragment reruns against full reruns under Locust (sales_load.loadtest; --help)."""

import sys

from sales_load.loadtest import main

if __name__ == "__main__":
    sys.exit(main())
