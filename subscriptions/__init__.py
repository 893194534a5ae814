"""The subscriptions service: plans, the five-state lifecycle, billing and entitlements.

Package map (docs/subscriptions.md):

- `billing/`: the `BillingProvider` port (billing/port.py) and its adapters, ``local``
  (deterministic test payment methods) and ``stripe`` (the official SDK).
"""
