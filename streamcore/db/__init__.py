"""PostgreSQL: pools and read routing (``database``, ``read_routing``), each service's schema
(``schemas``), the pools' metrics (``metrics``), migrations (``migrate``)."""
