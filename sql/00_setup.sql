-- medallion pipeline, step 0: load the extension and name the tables.
--
-- tools/pipeline.py (make run) runs these from the repository root and sets the variables `landing`,
-- `lake` and `reports` before reading these scripts; run by hand, set them
-- first, e.g. SET VARIABLE lake = 'lake';
LOAD 'build/release/medallion.duckdb_extension';  -- run from the repository root
SELECT medallion_version() AS medallion;

SET VARIABLE bronze     = getvariable('lake') || '/bronze';
SET VARIABLE quarantine = getvariable('lake') || '/quarantine';
SET VARIABLE silver     = getvariable('lake') || '/silver';
SET VARIABLE gold       = getvariable('lake') || '/gold';
SET VARIABLE evaluations = getvariable('lake') || '/evaluations';

-- `SELECT ... FROM query(getvariable('<table>_sql'))` reads a table, or an
-- empty result before its first commit (a table function cannot be bound on
-- a table that does not exist yet). `<cols>` is the empty result's columns.
CREATE OR REPLACE TEMP MACRO delta_or_empty(path, cols) AS
    CASE WHEN (SELECT count(*) FROM glob(path || '/_delta_log/*.json')) > 0
         THEN 'SELECT * FROM delta_read(''' || replace(path, '''', '''''') || ''')'
         ELSE 'SELECT ' || cols || ' WHERE false' END;
