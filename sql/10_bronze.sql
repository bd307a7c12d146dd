-- Bronze: every landing file ingested exactly once, raw, plus where and when.
--
-- Exactly once without a lock: a file counts as ingested when its name is in
-- bronze, and each table is written in ONE Delta commit (all rows or none).
-- Malformed lines go to quarantine first, skipping files already there; then
-- the good lines go to bronze. A crash between the two commits makes the
-- next run take the same files again: quarantine skips them, bronze takes them.
SET VARIABLE bronze_sql = delta_or_empty(getvariable('bronze'), 'NULL::VARCHAR AS source_file');
SET VARIABLE quarantine_sql = delta_or_empty(getvariable('quarantine'), 'NULL::VARCHAR AS source_file');

CREATE OR REPLACE TEMP TABLE pending_files AS
SELECT file FROM glob(getvariable('landing') || '/*.json')
WHERE parse_filename(file) NOT IN (
    SELECT DISTINCT parse_filename(source_file) FROM query(getvariable('bronze_sql'))
    WHERE source_file IS NOT NULL)
ORDER BY file;

-- one row per non-empty line, with its 1-based line number in the file
SET VARIABLE pending_files = (SELECT coalesce(list(file ORDER BY file), []::VARCHAR[]) FROM pending_files);
CREATE OR REPLACE TEMP TABLE landed AS
WITH files AS (
    SELECT filename AS source_file, string_split(content, chr(10)) AS lines
    FROM read_text(getvariable('pending_files'))
)
SELECT source_file, line_no, line FROM (
    SELECT source_file, unnest(range(1, len(lines) + 1)) AS line_no, unnest(lines) AS line FROM files
) WHERE trim(line) <> '';

CREATE OR REPLACE TEMP TABLE landed_checked AS
SELECT *, CASE
        WHEN NOT json_valid(line) THEN 'invalid JSON'
        WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
        WHEN json_extract_string(line, '$.date') IS NULL THEN 'missing field: date'
        WHEN json_extract_string(line, '$.user') IS NULL THEN 'missing field: user'
        WHEN json_extract_string(line, '$.text') IS NULL THEN 'missing field: text'
        WHEN json_extract_string(line, '$.sentiment') IS NULL THEN 'missing field: sentiment'
    END AS problem
FROM landed;

SELECT delta_write(getvariable('quarantine'), q,
                   {'commit_message': 'quarantine malformed landing records'}) AS quarantine_write
FROM (
    SELECT source_file, line_no, line AS raw_record, problem AS reason,
           get_current_timestamp() AS processing_time
    FROM landed_checked
    WHERE problem IS NOT NULL
      AND parse_filename(source_file) NOT IN (
          SELECT DISTINCT parse_filename(source_file) FROM query(getvariable('quarantine_sql'))
          WHERE source_file IS NOT NULL)
) q;

SELECT delta_write(getvariable('bronze'), b,
                   {'commit_message': 'ingest landing files'}) AS bronze_write
FROM (
    SELECT json_extract_string(line, '$.id') AS id,
           json_extract_string(line, '$.date') AS date,
           json_extract_string(line, '$.user') AS "user",
           json_extract_string(line, '$.text') AS text,
           json_extract_string(line, '$.sentiment') AS sentiment,
           source_file, line_no,
           get_current_timestamp() AS processing_time
    FROM landed_checked WHERE problem IS NULL
) b;

SELECT (SELECT count(*) FROM pending_files) AS files_ingested,
       (SELECT count(*) FILTER (WHERE problem IS NULL) FROM landed_checked) AS records,
       (SELECT count(*) FILTER (WHERE problem IS NOT NULL) FROM landed_checked) AS quarantined;
