"""PostgreSQL: pools and read routing (``database``, ``read_routing``), migrations (``migrate``)."""
