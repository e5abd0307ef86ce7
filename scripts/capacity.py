#!/usr/bin/env python3
"""`make capacity`: concurrent realistic users the stack serves, fragments on and off
(sales_load.capacity_cli; --help)."""

import sys

from sales_load.capacity_cli import main

if __name__ == "__main__":
    sys.exit(main())
