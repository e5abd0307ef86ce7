"""The sales dashboard: settings -> data -> charts -> views."""
