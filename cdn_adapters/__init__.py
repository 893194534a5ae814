"""CDN adapters: one protocol (asset URL, signed URL, purge, purge status) with CloudFront,
Cloudflare and local-edge implementations chosen by settings.
"""
