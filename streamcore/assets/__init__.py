"""Assets: the lifecycle state machine, storage key names and database queries, in one place."""
