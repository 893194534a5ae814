"""What StreamCore's components share: settings, storage, database, cache, CLI, local stack."""
