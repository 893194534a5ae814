-- Profiles' picked genres, and accounts without a password (docs/auth.md).
--
-- `genres`: what the person picked when the profile was made (cold-start recommendations);
-- checked by the service (at most 20, each 1 to 40 printable characters, no duplicates).
-- A password-less account is made by an import (POST /v1/admin/profiles/resolve with
-- create_missing): it cannot sign in until an admin sets its password.
--
-- The previous release runs unchanged against this schema: it never reads `genres` (its
-- inserts get the default), and it reads a null password_hash as no account's, checking its
-- decoy hash instead: a sign-in to such an account is its 401 invalid_credentials.
ALTER TABLE auth.profiles ADD COLUMN genres text[] NOT NULL DEFAULT '{}';
ALTER TABLE auth.accounts ALTER COLUMN password_hash DROP NOT NULL;
