"""CloudFront signed URLs and cookies, signed with a key-group key.

Signing goes through botocore's `CloudFrontSigner` with an RSA-SHA1 signer (the only
signature CloudFront verifies for key-group keys): a canned policy for one URL, a custom
policy (built by botocore) for a scope or a client IP. The rules are in docs/cdn.md.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cdn_adapters.base import check_path

# Absolute URL paths as our storage keys make them: no '*', '?', '#', spaces, '//' or '..'.
# A query a path to sign may already carry (the origin's token): URL-safe, no fragment.
_QUERY = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")
_SIGNING_PARAMS = {"Expires", "Policy", "Signature", "Key-Pair-Id"}


def load_rsa_private_key(pem: str, *, setting: str = "private_key") -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{setting}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{setting}: CloudFront key groups take RSA keys only")
    return key


def rsa_sha1_signer(key: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    def sign(message: bytes) -> bytes:
        # CloudFront verifies PKCS#1 v1.5 signatures over SHA-1, and nothing else.
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    return sign


def cloudfront_b64(data: bytes) -> str:
    """CloudFront's URL-safe base64: '+' -> '-', '=' -> '_', '/' -> '~'."""
    return base64.b64encode(data).decode().translate(str.maketrans("+=/", "-_~"))


def _source_ip(client_ip: str | None) -> str | None:
    if client_ip is None:
        return None
    address = ipaddress.ip_address(client_ip)
    if address.version != 4:
        # CloudFront matches AWS:SourceIp against IPv4 viewers only; see docs/cdn.md.
        raise ValueError(f"CloudFront policies can restrict IPv4 addresses only: {client_ip}")
    return f"{address}/32"


class UrlSigner:
    """The URLs and cookies of one distribution's domain, signed with one key-group key."""

    def __init__(
        self, *, domain: str, signer: CloudFrontSigner, clock: Callable[[], float]
    ) -> None:
        self._domain = domain
        self._signer = signer
        self._clock = clock

    def asset_url(self, path: str) -> str:
        check_path(path)
        return f"https://{self._domain}{path}"

    def signed_url(
        self, path: str, *, ttl_s: int, scope: str | None = None, client_ip: str | None = None
    ) -> str:
        """A canned-policy URL for `path`; a custom policy when a scope or client IP is given.

        `path` may carry a query already (the origin's token); the signature covers it. With a
        scope, the policy's resource is ``https://{domain}{scope}*``, and ``*`` matches query
        strings too: the same ``Policy``, ``Signature`` and ``Key-Pair-Id`` (after the same
        query) are valid for every file below the scope.
        """
        bare, mark, query = path.partition("?")
        names = {pair.partition("=")[0] for pair in query.split("&")}
        if not _QUERY.fullmatch(query) or names & _SIGNING_PARAMS:
            raise ValueError(f"unusable query for a signed URL: {path!r}")
        url = f"{self.asset_url(bare)}{mark}{query}"
        expires = self._expires(ttl_s)
        if scope is None and client_ip is None:
            return str(self._signer.generate_presigned_url(url, date_less_than=expires))
        resource = url if scope is None else self._scope_resource(scope, bare)
        policy = self._signer.build_policy(resource, expires, ip_address=_source_ip(client_ip))
        return str(self._signer.generate_presigned_url(url, policy=policy))

    def signed_cookies(
        self, scope: str, *, ttl_s: int, client_ip: str | None = None
    ) -> dict[str, str]:
        """The three cookies that let a viewer fetch everything below `scope` until expiry."""
        resource = self._scope_resource(scope, scope)
        policy = self._signer.build_policy(
            resource, self._expires(ttl_s), ip_address=_source_ip(client_ip)
        ).encode()
        return {
            "CloudFront-Policy": cloudfront_b64(policy),
            "CloudFront-Signature": cloudfront_b64(self._signer.rsa_signer(policy)),
            "CloudFront-Key-Pair-Id": self._signer.key_id,
        }

    def _expires(self, ttl_s: int) -> datetime:
        if ttl_s < 1:
            raise ValueError(f"ttl_s must be at least 1 second: {ttl_s}")
        return datetime.fromtimestamp(int(self._clock()) + ttl_s, tz=UTC)

    def _scope_resource(self, scope: str, path: str) -> str:
        check_path(scope)
        if not scope.endswith("/") or not path.startswith(scope):
            raise ValueError(f"scope must be a folder (ending in '/') above {path!r}: {scope!r}")
        return f"https://{self._domain}{scope}*"
