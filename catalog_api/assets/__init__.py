"""Asset endpoints: upload, inspect, list, reprocess, delete."""
