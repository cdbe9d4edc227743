-- Access control for the three parties of docs/security.md ("Access control"), on current
-- ClickHouse (SQL access control; `SQL SECURITY` needs 24.4 or later):
--
--   portrait_writer    the pipeline: `portrait migrate`, `run`, `forget`, in the main database;
--   portrait_analyst   dashboards and people: read the main database, change nothing;
--   portrait_crm       the CRM: read the view user_profiles_current, nothing else.
--
-- Applied by an administrator, not by `portrait migrate` (connectors/build.rs embeds only the
-- numbered files): creating users and granting rights needs more than the writer may have.
-- Run it as a user with ACCESS MANAGEMENT, after the first `portrait migrate` (the ALTER below
-- needs the view), and again whenever a migration recreates user_profiles_current:
--
--   clickhouse-client --multiquery < schemas/clickhouse/roles.sql
--
-- Every statement is re-runnable. The main database is `portrait` ([clickhouse] database); with
-- another name, replace `portrait.` throughout.
--
-- No passwords here. The users are created locked (no password, no host they may connect
-- from); an administrator then sets each one's password and hosts, sending only a SHA-256 hash
-- so the password never appears in a query log or process list:
--
--   HASH=$(printf '%s' "$PASSWORD" | sha256sum | cut -d' ' -f1)
--   clickhouse-client --query "ALTER USER portrait_pipeline
--       IDENTIFIED WITH sha256_hash BY '$HASH' HOST IP '10.0.0.0/8'"
--
-- and hands the password to the party: the pipeline reads it from PORTRAIT_CLICKHOUSE_PASSWORD
-- (with [clickhouse] user = "portrait_pipeline").

CREATE ROLE IF NOT EXISTS portrait_writer;
CREATE ROLE IF NOT EXISTS portrait_analyst;
CREATE ROLE IF NOT EXISTS portrait_crm;

-- migrate creates the database and its tables and views (and recreates views to change them);
-- run inserts and reads states back; forget deletes rows (ALTER ... DELETE) and reads
-- system.mutations, which shows the mutations of the tables it may read.
GRANT CREATE DATABASE ON portrait.* TO portrait_writer;
GRANT SELECT, INSERT, ALTER, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, OPTIMIZE
    ON portrait.* TO portrait_writer;

-- Dashboards read the contract views, events and, for the watermark's day, user_profiles
-- (dashboards/README.md). Read only: no INSERT, ALTER, CREATE or DROP is granted.
-- With pseudonymisation (docs/security.md), analysts must not read the main database: replace
-- the next line with `GRANT SELECT ON portrait_analytics.* TO portrait_analyst;`.
GRANT SELECT ON portrait.* TO portrait_analyst;

-- The CRM's one view. A normal view runs with the rights of the user who reads it (SQL
-- SECURITY INVOKER, the default), which would need SELECT on user_profiles too, the table
-- with every old version of every row. So the view runs as a user that exists only to read
-- that table (it cannot log in: HOST NONE), and the CRM is granted the view alone. Its own
-- subqueries (`WHERE user_id IN (SELECT ... FROM portrait.events)`) still run as the CRM, and
-- are refused.
CREATE USER IF NOT EXISTS portrait_view_definer NOT IDENTIFIED HOST NONE;
GRANT SELECT ON portrait.user_profiles TO portrait_view_definer;
ALTER TABLE portrait.user_profiles_current
    MODIFY SQL SECURITY DEFINER DEFINER = portrait_view_definer;
GRANT SELECT ON portrait.user_profiles_current TO portrait_crm;

-- One user per party, locked until an administrator sets its password and hosts (above). New
-- users take every role granted to them as a default role.
CREATE USER IF NOT EXISTS portrait_pipeline NOT IDENTIFIED HOST NONE;
CREATE USER IF NOT EXISTS portrait_grafana NOT IDENTIFIED HOST NONE;
CREATE USER IF NOT EXISTS portrait_crm_sync NOT IDENTIFIED HOST NONE;
GRANT portrait_writer TO portrait_pipeline;
GRANT portrait_analyst TO portrait_grafana;
GRANT portrait_crm TO portrait_crm_sync;
