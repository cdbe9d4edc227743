-- The user's pseudonym for analysts (docs/security.md, "Pseudonymisation"): hex of
-- HMAC-SHA256(key, user_id), computed by the pipeline (ClickHouse 18.16 has no HMAC in SQL), or
-- '' when no key is set. The analytics database's materialized view copies it in place of
-- user_id; views over this table list their columns, so they do not change.
--
-- One statement per file, one file per table: 18.16 has no ADD COLUMN IF NOT EXISTS, so this
-- cannot be re-run once applied, and a file with several ALTERs that failed halfway could not
-- be finished by running migrate again. Added last, as RowBinary rows list columns in order.
ALTER TABLE user_profiles ADD COLUMN user_key String DEFAULT '';
