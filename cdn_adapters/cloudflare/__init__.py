"""Cloudflare: URLs signed for the WAF's `is_timed_hmac_valid_v0()`, purges through the SDK.

signing.py makes the tokens, mirrors the rule function so tests can check what Cloudflare
would accept, and writes the rule; adapter.py is the CdnAdapter (purges by prefix and by URL,
429s retried after Retry-After); errors.py turns the SDK's errors into ours. See docs/cdn.md.
"""

from cdn_adapters.cloudflare.adapter import CloudflareAdapter
from cdn_adapters.cloudflare.errors import RateLimited
from cdn_adapters.cloudflare.signing import (
    ASSET_SCOPE_LENGTH,
    DEFAULT_QUERY_PARAM,
    is_timed_hmac_valid_v0,
    scope_message_mac,
    timed_hmac_token,
    waf_rule_expression,
)

__all__ = [
    "ASSET_SCOPE_LENGTH",
    "DEFAULT_QUERY_PARAM",
    "CloudflareAdapter",
    "RateLimited",
    "is_timed_hmac_valid_v0",
    "scope_message_mac",
    "timed_hmac_token",
    "waf_rule_expression",
]
