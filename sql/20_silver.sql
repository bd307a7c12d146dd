-- Silver: cleaned tweets, one row per (tweet, mention); a tweet without a
-- mention keeps one row with mention NULL.
--
-- Incremental: reads only what bronze committed after the version silver
-- last consumed (`delta_changes`), and appends the new tweets in one commit
-- that records the bronze version it got to. A tweet delivered twice (same
-- id) counts once: the first arrival within the batch, and not at all when
-- silver already holds it (looked up in silver by the batch's id range, so
-- the Parquet reader skips files whose ids are all older). Rows without an
-- id or a 0/4 label are left out. The timestamp keeps its zone (bronze
-- quarantined dates that do not parse).
--
-- Clustering stays incremental too: when enough unclustered data has
-- gathered (`cluster_min_bytes`, default 16 MiB, or `cluster_min_files`,
-- default 64, for a slow stream of small files), the new files are sorted
-- by mention into files of 4 MiB under `clustered/`, together with the
-- cube (the files of an earlier run) that is still under 64 MiB; cubes of
-- 64 MiB and more are left alone. So silver is a few large cubes, each
-- sorted by mention, one growing cube and the files of the last passes: a
-- filter on one mention opens about one file per cube plus those, and a
-- row is rewritten a bounded number of times (about 64 / 16), not once per
-- pass.
INSERT INTO pass_summary VALUES ('silver', 'started', epoch(get_current_timestamp()), NULL);

SET VARIABLE silver_from  = consumed(getvariable('silver'), 'silver');
SET VARIABLE bronze_until = delta_version(getvariable('bronze'));
CREATE OR REPLACE TEMP TABLE bronze_new AS
SELECT * FROM query(changes_or_empty(getvariable('bronze'), getvariable('silver_from'), getvariable('bronze_until'),
    'NULL::VARCHAR AS id, NULL::VARCHAR AS date, NULL::VARCHAR AS "user", NULL::VARCHAR AS text,
     NULL::VARCHAR AS sentiment, NULL::VARCHAR AS source_file, NULL::BIGINT AS line_no,
     NULL::TIMESTAMPTZ AS landed_at, NULL::TIMESTAMPTZ AS processing_time'));

-- a tweet delivered twice in the batch counts once: keep its first arrival
CREATE OR REPLACE TEMP TABLE bronze_deduped AS
SELECT * FROM bronze_new
WHERE id IS NOT NULL AND text IS NOT NULL AND sentiment IN ('0', '4')
QUALIFY row_number() OVER (PARTITION BY id ORDER BY _commit_version, processing_time, source_file, line_no) = 1;

-- ... and not at all when silver already has it
SET VARIABLE id_low  = (SELECT min(id) FROM bronze_deduped);
SET VARIABLE id_high = (SELECT max(id) FROM bronze_deduped);
CREATE OR REPLACE TEMP TABLE silver_seen AS
SELECT DISTINCT tweet_id FROM query(
    CASE WHEN getvariable('id_low') IS NOT NULL AND delta_version(getvariable('silver')) IS NOT NULL
         THEN 'SELECT tweet_id FROM ' || sql_text(getvariable('silver')) || ' WHERE tweet_id BETWEEN '
              || sql_text(getvariable('id_low')) || ' AND ' || sql_text(getvariable('id_high'))
         ELSE 'SELECT NULL::VARCHAR AS tweet_id WHERE false' END);

CREATE OR REPLACE TEMP TABLE silver_new AS
WITH parsed AS (
    SELECT
        d.id AS tweet_id,
        d.user AS user_name,
        parse_twitter_date(d.date) AS created_at,
        d.text,
        -- HTML entities first (so '&amp;' does not survive), then mentions and URLs
        regexp_replace(
          trim(regexp_replace(regexp_replace(
            replace(replace(replace(replace(replace(replace(d.text,
                '&quot;', '"'), '&#39;', ''''), '&apos;', ''''), '&lt;', '<'), '&gt;', '>'), '&amp;', '&'),
            '@\w+', '', 'g'),
            '(https?://|www\.)\S+', '', 'g')),
          '\s+', ' ', 'g') AS cleaned_text,
        list_distinct(list_transform(regexp_extract_all(d.text, '@(\w{1,15})', 1), lambda m: lower(m))) AS mentions,
        d.sentiment,
        CASE d.sentiment WHEN '4' THEN 1 ELSE 0 END AS sentiment_id,
        d.source_file,
        d.landed_at,
        d.processing_time
    FROM bronze_deduped d ANTI JOIN silver_seen s ON s.tweet_id = d.id
)
SELECT tweet_id, user_name, created_at, text, cleaned_text,
       unnest(CASE WHEN len(mentions) = 0 THEN [NULL::VARCHAR] ELSE mentions END) AS mention,
       sentiment, sentiment_id, source_file, landed_at, processing_time
FROM parsed;

CREATE OR REPLACE TEMP TABLE silver_write AS
SELECT delta_write(getvariable('silver'), s, {
           'checkpoint_interval': 10, 'txn_app_id': 'medallion.silver', 'txn_version': getvariable('bronze_until'),
           'txn_from_version': getvariable('silver_from'), 'commit_message': 'append new bronze tweets'}) AS w
FROM (
    SELECT s FROM silver_new s
    UNION ALL SELECT NULL WHERE getvariable('bronze_until') > getvariable('silver_from')
) AS x(s);

-- Cluster what has gathered unclustered since the last time (see above).
CREATE OR REPLACE TEMP TABLE silver_clustering AS
SELECT files_removed FROM query(compact_sql(getvariable('silver'), '[''mention'']',
    coalesce(try_cast(getvariable('cluster_min_files') AS BIGINT), 64),
    coalesce(try_cast(getvariable('cluster_min_bytes') AS BIGINT), 16777216),
    4194304, 67108864));

INSERT INTO pass_summary
SELECT 'silver', 'tweets', (SELECT count(DISTINCT tweet_id) FROM silver_new), NULL
WHERE (SELECT (w).status FROM silver_write) = 'committed'
UNION ALL
SELECT 'silver', 'duplicates', (SELECT count(*) FROM bronze_new WHERE id IS NOT NULL)
                               - (SELECT count(DISTINCT tweet_id) FROM silver_new), NULL
WHERE (SELECT (w).status FROM silver_write) = 'committed'
UNION ALL
SELECT 'silver', 'clustered_files', (SELECT sum(files_removed) FROM silver_clustering), NULL
UNION ALL
SELECT 'silver', 'contended', NULL, (SELECT (w).status FROM silver_write WHERE (w).status LIKE '%moved on%')
UNION ALL
SELECT 'silver', 'finished', epoch(get_current_timestamp()), NULL;
