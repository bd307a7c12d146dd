-- medallion pipeline, step 0: load the extension and show what is loaded.
-- Run from the repository root: .venv/bin/duckdb -unsigned < sql/00_setup.sql
LOAD 'build/release/medallion.duckdb_extension';
SELECT medallion_version() AS medallion;
