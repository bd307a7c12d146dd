-- Bronze: every landing file ingested exactly once, raw, plus where and when;
-- every line that is not a usable record goes to quarantine with the reason.
--
-- Like Spark's offset log and sink commit: (1) new landing files are CLAIMED
-- as the next batch in the ingest log (one row per file, so deciding what is
-- new costs the number of landing files, not of records); (2) every claimed
-- batch not yet in quarantine or bronze is read and split, each table
-- written in one commit that records the batch it got to. A concurrent pass
-- that claimed or wrote first wins; the other's commit is skipped. A pass
-- killed after claiming leaves a claimed batch that the next pass completes.
--
-- No input stops the pipeline: `landing_lines` reports invalid UTF-8 (with
-- its byte offset), over-long lines, directories, FIFOs and files that
-- vanished as rows with a problem, and those, with every line that is not a
-- JSON object with string fields date, user, text and sentiment and a date
-- that parses, go to quarantine. A file is claimed once it is complete (it
-- ends with a newline) or has not changed for `settle_seconds` (default 5),
-- and is read exactly as large as it was when claimed.
INSERT INTO pass_summary VALUES ('bronze', 'started', epoch(get_current_timestamp()), NULL);
SET VARIABLE settle = coalesce(try_cast(getvariable('settle_seconds') AS DOUBLE), 5.0);

-- 1. Claim the landing files the ingest log does not know yet.
SET VARIABLE ingest_from = consumed(getvariable('ingest_log'), 'ingest');
SET VARIABLE claimed_files = (
    SELECT coalesce(list(file), []::VARCHAR[])
    FROM query(delta_or_empty(getvariable('ingest_log'), 'NULL::VARCHAR AS file')));

-- landing_files looks only at what the ingest log does not know
CREATE OR REPLACE TEMP TABLE new_files AS
SELECT file, size_bytes, modified, kind
FROM landing_files(getvariable('landing') || '/*.json', known := getvariable('claimed_files'))
WHERE kind <> 'file' OR complete
   OR modified <= get_current_timestamp() - to_microseconds((getvariable('settle') * 1e6)::BIGINT);

CREATE OR REPLACE TEMP TABLE claim AS
SELECT delta_write(getvariable('ingest_log'), t, {
           'checkpoint_interval': 10, 'txn_app_id': 'medallion.ingest', 'txn_version': getvariable('ingest_from') + 1,
           'txn_from_version': getvariable('ingest_from'), 'commit_message': 'claim landing files'}) AS w
FROM (
    SELECT file, size_bytes, modified AS landed_at, kind,
           getvariable('ingest_from') + 1 AS batch, get_current_timestamp() AS claimed_at
    FROM new_files ORDER BY file
) t;

-- 2. Read every claimed batch that quarantine or bronze has not got yet:
--    ours, a concurrent pass's, or one a killed pass left behind.
SET VARIABLE ingest_until    = consumed(getvariable('ingest_log'), 'ingest');
SET VARIABLE quarantine_from = consumed(getvariable('quarantine'), 'quarantine');
SET VARIABLE bronze_from     = consumed(getvariable('bronze'), 'bronze');
CREATE OR REPLACE TEMP TABLE batch_files AS
SELECT file, size_bytes, landed_at, batch
FROM query(CASE WHEN getvariable('ingest_until') > least(getvariable('quarantine_from'), getvariable('bronze_from'))
                THEN 'SELECT * FROM delta_read(' || sql_text(getvariable('ingest_log')) || ')'
                ELSE 'SELECT NULL::VARCHAR AS file, NULL::BIGINT AS size_bytes, NULL::TIMESTAMPTZ AS landed_at, NULL::BIGINT AS batch WHERE false' END)
WHERE batch > least(getvariable('quarantine_from'), getvariable('bronze_from'))
  AND batch <= getvariable('ingest_until');

SET VARIABLE batch_file_list = (SELECT coalesce(list(file ORDER BY file), []::VARCHAR[]) FROM batch_files);
SET VARIABLE batch_file_sizes = (SELECT coalesce(list(size_bytes ORDER BY file), []::BIGINT[]) FROM batch_files);
CREATE OR REPLACE TEMP TABLE landed AS
SELECT f.batch, f.landed_at, l.file AS source_file, l.line_no, l.byte_offset, l.line, l.problem
FROM landing_lines(getvariable('batch_file_list'), sizes := getvariable('batch_file_sizes')) l
JOIN batch_files f ON f.file = l.file;

-- What a JSON value is, for the reasons below.
CREATE OR REPLACE TEMP MACRO json_kind(t) AS CASE t
    WHEN 'OBJECT' THEN 'an object' WHEN 'ARRAY' THEN 'an array' WHEN 'BOOLEAN' THEN 'a boolean'
    WHEN 'VARCHAR' THEN 'a string' ELSE 'a number' END;
-- Each line is parsed once for its fields (date, user, text, sentiment, id).
CREATE OR REPLACE TEMP TABLE landed_fields AS
SELECT *, CASE WHEN ok THEN json_extract(line, ['$.date', '$.user', '$.text', '$.sentiment', '$.id']) END AS f
FROM (SELECT *, CASE WHEN problem IS NULL AND json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS ok
      FROM landed);
CREATE OR REPLACE TEMP TABLE landed_checked AS
SELECT batch, landed_at, source_file, line_no, byte_offset, line,
       f[1] ->> '$' AS date, f[2] ->> '$' AS "user", f[3] ->> '$' AS text,
       f[4] ->> '$' AS sentiment, f[5] ->> '$' AS id,
       CASE
        WHEN problem IS NOT NULL THEN problem
        WHEN NOT json_valid(line) THEN 'invalid JSON'
        WHEN NOT ok THEN 'not a JSON object'
        WHEN coalesce(json_type(f[1]), 'NULL') = 'NULL' THEN 'missing field: date'
        WHEN coalesce(json_type(f[2]), 'NULL') = 'NULL' THEN 'missing field: user'
        WHEN coalesce(json_type(f[3]), 'NULL') = 'NULL' THEN 'missing field: text'
        WHEN coalesce(json_type(f[4]), 'NULL') = 'NULL' THEN 'missing field: sentiment'
        WHEN json_type(f[1]) <> 'VARCHAR' THEN 'field `date` is ' || json_kind(json_type(f[1])) || ', not a string'
        WHEN json_type(f[2]) <> 'VARCHAR' THEN 'field `user` is ' || json_kind(json_type(f[2])) || ', not a string'
        WHEN json_type(f[3]) <> 'VARCHAR' THEN 'field `text` is ' || json_kind(json_type(f[3])) || ', not a string'
        WHEN json_type(f[4]) NOT IN ('VARCHAR', 'BIGINT', 'UBIGINT')
            THEN 'field `sentiment` is ' || json_kind(json_type(f[4])) || ', not a label'
        WHEN json_type(f[5]) IN ('OBJECT', 'ARRAY', 'BOOLEAN')
            THEN 'field `id` is ' || json_kind(json_type(f[5])) || ', not a string or number'
        WHEN parse_twitter_date(f[1] ->> '$') IS NULL
            THEN 'field `date`: ''' || left(f[1] ->> '$', 60)
                 || ''' is not a date like ''Mon Apr 06 22:19:45 PDT 2009'''
       END AS reason
FROM landed_fields;

-- 3. Quarantine and bronze, each one commit recording the batch it got to.
--    (A NULL row is not a row: it makes the commit happen when a batch
--    brought nothing for this table.)
CREATE OR REPLACE TEMP TABLE quarantine_write AS
SELECT delta_write(getvariable('quarantine'), q, {
           'checkpoint_interval': 10, 'txn_app_id': 'medallion.quarantine', 'txn_version': getvariable('ingest_until'),
           'txn_from_version': getvariable('quarantine_from'),
           'commit_message': 'quarantine malformed landing records'}) AS w
FROM (
    SELECT q FROM (
        SELECT source_file, line_no, byte_offset, line AS raw_record, reason, batch,
               get_current_timestamp() AS processing_time
        FROM landed_checked WHERE reason IS NOT NULL AND batch > getvariable('quarantine_from')
    ) q
    UNION ALL SELECT NULL WHERE getvariable('ingest_until') > getvariable('quarantine_from')
) AS x(q);

CREATE OR REPLACE TEMP TABLE bronze_write AS
SELECT delta_write(getvariable('bronze'), b, {
           'checkpoint_interval': 10, 'txn_app_id': 'medallion.bronze', 'txn_version': getvariable('ingest_until'),
           'txn_from_version': getvariable('bronze_from'), 'commit_message': 'ingest landing files'}) AS w
FROM (
    SELECT b FROM (
        SELECT id, date, "user", text, sentiment, source_file, line_no, landed_at, batch,
               get_current_timestamp() AS processing_time
        FROM landed_checked WHERE reason IS NULL AND batch > getvariable('bronze_from')
    ) b
    UNION ALL SELECT NULL WHERE getvariable('ingest_until') > getvariable('bronze_from')
) AS x(b);

-- Small files of many passes are clustered together (see compact_sql).
CREATE OR REPLACE TEMP TABLE bronze_compaction AS
SELECT * FROM query(compact_sql(getvariable('ingest_log'), '[''file'']', 64, 67108864, 8388608, NULL))
UNION ALL SELECT * FROM query(compact_sql(getvariable('quarantine'), '[''source_file'']', 64, 67108864, 8388608, NULL))
UNION ALL SELECT * FROM query(compact_sql(getvariable('bronze'), '[''id'']', 64, 67108864, 8388608, NULL));

INSERT INTO pass_summary
SELECT 'bronze', 'files', (SELECT count(*) FROM batch_files WHERE batch > getvariable('bronze_from')
                           AND (SELECT (w).status FROM bronze_write) = 'committed'), NULL
UNION ALL
SELECT 'bronze', 'records', (SELECT (w).rows FROM bronze_write WHERE (w).status = 'committed'), NULL
UNION ALL
SELECT 'bronze', 'quarantined', (SELECT (w).rows FROM quarantine_write WHERE (w).status = 'committed'), NULL
UNION ALL
SELECT 'bronze', 'contended', NULL, string_agg(s, '; ') FROM (
    SELECT 'ingest log: ' || (w).status AS s FROM claim UNION ALL
    SELECT 'quarantine: ' || (w).status FROM quarantine_write UNION ALL
    SELECT 'bronze: ' || (w).status FROM bronze_write
) WHERE s LIKE '%moved on%'
UNION ALL
SELECT 'bronze', 'finished', epoch(get_current_timestamp()), NULL;
