"""Amazon CloudFront: URLs and cookies signed with a key-group key, purges as invalidations.

Signing goes through botocore's `CloudFrontSigner` with an RSA-SHA1 signer (signing.py).
Purges are `CreateInvalidation` calls whose caller references derive from the purge's
reference, so a retried purge is the same invalidation to CloudFront. Planning
(`plan_invalidations`, plan.py) and submission with back-off (`submit_batches`, backoff.py)
are plain functions, tested without CloudFront; the adapter (adapter.py) ties them to the API,
and errors.py turns CloudFront's errors into ours. The rules, the CloudFront setup and the
limits are in docs/cdn.md.
"""

from cdn_adapters.cloudfront.adapter import CloudFrontAdapter
from cdn_adapters.cloudfront.backoff import Backoff, submit_batches
from cdn_adapters.cloudfront.errors import TooManyInvalidationsInProgress
from cdn_adapters.cloudfront.plan import Batch, InvalidationLimits, plan_invalidations
from cdn_adapters.cloudfront.signing import cloudfront_b64

__all__ = [
    "Backoff",
    "Batch",
    "CloudFrontAdapter",
    "InvalidationLimits",
    "TooManyInvalidationsInProgress",
    "cloudfront_b64",
    "plan_invalidations",
    "submit_batches",
]
