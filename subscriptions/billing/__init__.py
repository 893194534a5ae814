"""Billing providers: the port (port.py) and its adapters, chosen by ``subscriptions.provider``."""
