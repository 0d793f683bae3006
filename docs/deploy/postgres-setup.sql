-- docs/deploy/postgres-setup.sql: the role and the database kkik-harness uses.
-- Run once as the PostgreSQL superuser, with the password in KKIK_DB_PASSWORD (psql reads it
-- from the environment, so it never appears on a command line):
--   set -a; . /etc/kkik/secrets.env; set +a
--   sudo --preserve-env=KKIK_DB_PASSWORD -u postgres psql -v ON_ERROR_STOP=1 -f postgres-setup.sql
\getenv password KKIK_DB_PASSWORD
\if :{?password}
\else
  -- Stops here (ON_ERROR_STOP) with this sentence in the error.
  SELECT 'KKIK_DB_PASSWORD is not set'::integer;
\endif

-- A login role that owns its database and nothing else (no superuser, no CREATEDB/CREATEROLE).
CREATE ROLE kkik LOGIN PASSWORD :'password';
-- UTF-8 whatever the server's default; kkik db upgrade creates the tables as their owner.
CREATE DATABASE kkik OWNER kkik ENCODING 'UTF8' TEMPLATE template0;
-- Only the owner (and superusers) may connect.
REVOKE ALL ON DATABASE kkik FROM PUBLIC;
