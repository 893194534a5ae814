"""The local edge cache (`python -m cdn_adapters.edge`), the default CDN of the local stack."""
