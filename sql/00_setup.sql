-- medallion pipeline, step 0: load the extension, name the tables, and
-- define what every layer shares.
--
-- tools/pipeline.py (make run) runs these from the repository root and sets
-- the variables `landing`, `lake` and `reports` (and, optionally,
-- `settle_seconds`, `cluster_min_files`, `cluster_min_bytes`) before reading
-- these scripts; run by hand, set them first, e.g. SET VARIABLE lake = 'lake';
--
-- How a layer stays incremental and exactly once: each one reads only what
-- its input committed after the version it last consumed, and records the
-- version it consumed up to (a Delta `txn`: app id `medallion.<layer>`) in
-- the SAME commit as its rows, as a compare-and-set on the version it read
-- (`txn_from_version`). A pass that repeats work another pass committed is
-- skipped, never appended; a pass killed anywhere leaves each table either
-- before or after its commit, and the next pass goes on from there.
LOAD 'build/release/medallion.duckdb_extension';  -- run from the repository root

SET VARIABLE ingest_log    = getvariable('lake') || '/ingest_log';
SET VARIABLE bronze        = getvariable('lake') || '/bronze';
SET VARIABLE quarantine    = getvariable('lake') || '/quarantine';
SET VARIABLE silver        = getvariable('lake') || '/silver';
SET VARIABLE gold          = getvariable('lake') || '/gold';
SET VARIABLE evaluations   = getvariable('lake') || '/evaluations';
SET VARIABLE mention_stats = getvariable('lake') || '/analyses/mention_stats';
SET VARIABLE user_stats    = getvariable('lake') || '/analyses/user_stats';
SET VARIABLE hourly_stats  = getvariable('lake') || '/analyses/hourly_stats';

-- What each layer did in this pass; tools/pipeline.py prints it.
CREATE OR REPLACE TEMP TABLE pass_summary (layer VARCHAR, item VARCHAR, value DOUBLE, note VARCHAR);
INSERT INTO pass_summary VALUES ('setup', 'medallion', NULL, medallion_version());

-- A string as a SQL literal, for SQL text built here.
CREATE OR REPLACE TEMP MACRO sql_text(s) AS '''' || replace(s, '''', '''''') || '''';

-- SQL text reading a whole table, or `cols` with no rows before its first
-- commit (a table function cannot be bound on a table that does not exist).
CREATE OR REPLACE TEMP MACRO delta_or_empty(path, cols) AS
    CASE WHEN delta_version(path) IS NOT NULL
         THEN 'SELECT * FROM delta_read(' || sql_text(path) || ')'
         ELSE 'SELECT ' || cols || ' WHERE false' END;

-- SQL text reading what the commits after version `after` up to `until`
-- added to a table (with `_commit_version`), or `cols` with no rows.
CREATE OR REPLACE TEMP MACRO changes_or_empty(path, after, until, cols) AS
    CASE WHEN until IS NOT NULL AND until > after
         THEN 'SELECT * FROM delta_changes(' || sql_text(path) || ', ' || after
              || ', until_version := ' || until || ')'
         ELSE 'SELECT ' || cols || ', NULL::BIGINT AS _commit_version WHERE false' END;

-- SQL text that clusters (Z-orders by `columns`, a SQL list literal) the
-- files appends added to a table since it was last clustered, once
-- `min_files` of them or `min_bytes` have gathered, into files of
-- `file_size` bytes; cubes (the files of one earlier run) smaller than
-- `min_cube` bytes are merged into the new one, larger ones are left alone
-- (optimize_zorder's incremental mode; NULL: never merge). Keeps the number
-- of files, and so the cost of reading a table's log and of scanning it,
-- bounded by the data, not by the number of passes.
CREATE OR REPLACE TEMP MACRO compact_sql(path, columns, min_files, min_bytes, file_size, min_cube) AS
    CASE WHEN delta_version(path) IS NOT NULL
         THEN 'SELECT files_removed FROM optimize_zorder(' || sql_text(path) || ', ' || columns
              || ', target_file_size := ' || file_size || ', incremental := true, min_files := ' || min_files
              || ', min_bytes := ' || min_bytes
              || coalesce(', min_cube_size := ' || min_cube, '') || ')'
         ELSE 'SELECT NULL::BIGINT AS files_removed WHERE false' END;

-- The version a layer consumed its input up to (-1: nothing yet).
CREATE OR REPLACE TEMP MACRO consumed(path, layer) AS
    coalesce(delta_txn_version(path, 'medallion.' || layer), -1);

-- Twitter's dates name their zone (`Mon Apr 06 22:19:45 PDT 2009`): the
-- abbreviation becomes its UTC offset, then the text is parsed; NULL when
-- it does not parse (bronze quarantines such records).
CREATE OR REPLACE TEMP MACRO parse_twitter_date(d) AS try_strptime(
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(d,
        ' PDT ', ' -0700 '), ' PST ', ' -0800 '), ' MDT ', ' -0600 '), ' MST ', ' -0700 '),
        ' CDT ', ' -0500 '), ' CST ', ' -0600 '), ' EDT ', ' -0400 '), ' EST ', ' -0500 '),
        ' UTC ', ' +0000 '), ' GMT ', ' +0000 '),
    '%a %b %d %H:%M:%S %z %Y');

-- How far each layer has got: the version of its input it consumed up to
-- (`consumed`), and that input's latest version (`available`).
CREATE OR REPLACE TEMP MACRO pipeline_progress(lake) AS TABLE
SELECT layer, input, consumed, available, available - consumed AS versions_behind FROM (VALUES
    ('bronze',     'ingest_log', consumed(lake || '/bronze', 'bronze'),
                   consumed(lake || '/ingest_log', 'ingest')),
    ('quarantine', 'ingest_log', consumed(lake || '/quarantine', 'quarantine'),
                   consumed(lake || '/ingest_log', 'ingest')),
    ('silver',     'bronze',     consumed(lake || '/silver', 'silver'), delta_version(lake || '/bronze')),
    ('gold',       'silver',     consumed(lake || '/gold', 'gold'), delta_version(lake || '/silver')),
    ('metrics',    'gold',       consumed(lake || '/evaluations', 'metrics'), delta_version(lake || '/gold')),
    ('analyses',   'gold',       consumed(lake || '/analyses/mention_stats', 'analyses'),
                   delta_version(lake || '/gold'))
) t(layer, input, consumed, available);
