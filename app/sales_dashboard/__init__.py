"""The sales dashboard: settings -> data -> charts -> views."""

TITLE = "Daily vs monthly sales, by product"  # the page's heading, and its sign-in page's
