"""Identity for every service: what a request's bearer is, and whether it may do what it asks.

- `roles`: roles, permissions and the one table between them.
- `keys`: Ed25519 signing keys, their JWKs and key ids.
- `tokens`: access tokens (JWT, EdDSA): minted by the auth service, verified everywhere.
- `jwks`: where a service finds the public keys (the auth service's JWKS, fetched and cached).
- `principal`: the caller as the handlers see it.
- `middleware`: the one authentication and authorization middleware pair every service uses.
- `maturity`: which content certifications a profile's maturity level may see.
- `revocation`: device sessions signed out, shared through Redis.
- `audit`: security events, published to a Redis stream the auth service records.
"""
