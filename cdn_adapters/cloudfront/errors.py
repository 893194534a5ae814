"""CloudFront's errors, as botocore raises them, turned into ours (CdnError, CdnUnavailable)."""

from __future__ import annotations

from botocore import exceptions as boto_errors

from cdn_adapters.base import CdnError, CdnUnavailable

_TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
}
_TOO_MANY = "TooManyInvalidationsInProgress"


class TooManyInvalidationsInProgress(CdnUnavailable):
    """CloudFront's in-flight invalidation limits are reached (ours or anyone else's)."""


def translate(exc: Exception, what: str, *, cdn: str, distribution_id: str) -> CdnError:
    """Our error for `exc`, raised while CDN `cdn` worked on `what` (an invalidation)."""
    if isinstance(exc, boto_errors.ClientError):
        return _translate_client_error(exc, what, distribution_id=distribution_id, cdn=cdn)
    if isinstance(exc, boto_errors.NoCredentialsError):
        return CdnError(
            f"no AWS credentials for CloudFront: set cdns[{cdn}].access_key_id and "
            "secret_access_key, or configure boto3's default credential chain"
        )
    if isinstance(
        exc, boto_errors.ConnectionError | boto_errors.HTTPClientError | OSError | TimeoutError
    ):
        return CdnUnavailable(f"CloudFront API unreachable ({what}): {exc}")
    return CdnError(f"CloudFront request failed ({what}): {exc}")


def _translate_client_error(
    exc: boto_errors.ClientError, what: str, *, cdn: str, distribution_id: str
) -> CdnError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")).strip()
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code == _TOO_MANY:
        return TooManyInvalidationsInProgress(f"CloudFront ({what}): {message or code}")
    if status >= 500 or status == 429 or code in _TRANSIENT_CODES:
        return CdnUnavailable(f"CloudFront is throttling or failing ({what}): {code} {message}")
    if code == "AccessDenied" or status == 403:
        return CdnError(
            f"CloudFront denied access ({what}): the credentials need "
            "cloudfront:CreateInvalidation and cloudfront:GetInvalidation on distribution "
            f"{distribution_id}. {message}"
        )
    if code == "NoSuchDistribution":
        return CdnError(
            f"no CloudFront distribution {distribution_id} (cdns[{cdn}].distribution_id)"
        )
    if code == "NoSuchInvalidation":
        return CdnError(f"CloudFront knows no {what} on distribution {distribution_id}")
    if code == "InvalidationBatchAlreadyExists":
        return CdnError(
            f"CloudFront already has {what} with other paths: a reference must name one "
            "purge, never be reused for another set of paths"
        )
    return CdnError(f"CloudFront rejected {what}: {code} ({status}) {message}".strip())
