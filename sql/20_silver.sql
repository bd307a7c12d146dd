-- Silver: cleaned tweets, one row per (tweet, mention); a tweet without a
-- mention keeps one row with mention NULL.
--
-- Recomputed from bronze and written with mode 'overwrite' (one atomic
-- commit), so re-runs never duplicate. Duplicated deliveries of a tweet (same
-- id) count once; rows without id, text or a 0/4 label are left out. The
-- timestamp keeps its zone (Twitter writes PDT/PST ... abbreviations).
CREATE OR REPLACE TEMP VIEW bronze_src AS SELECT * FROM delta_read(getvariable('bronze'));
CREATE OR REPLACE TEMP TABLE silver_new AS
WITH zones(abbr, utc_offset) AS (
    VALUES ('PDT', '-0700'), ('PST', '-0800'), ('MDT', '-0600'), ('MST', '-0700'),
           ('CDT', '-0500'), ('CST', '-0600'), ('EDT', '-0400'), ('EST', '-0500'),
           ('UTC', '+0000'), ('GMT', '+0000')
),
deduped AS (
    -- a tweet delivered twice (same id) counts once: keep its first arrival
    SELECT * FROM bronze_src
    WHERE id IS NOT NULL AND text IS NOT NULL AND sentiment IN ('0', '4')
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY processing_time, source_file) = 1
),
parsed AS (
    SELECT
        d.id AS tweet_id,
        d.user AS user_name,
        try_strptime(replace(d.date, ' ' || z.abbr || ' ', ' ' || z.utc_offset || ' '),
                     '%a %b %d %H:%M:%S %z %Y') AS created_at,
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
        d.processing_time
    FROM deduped d
    LEFT JOIN zones z ON d.date LIKE '% ' || z.abbr || ' %'
)
SELECT tweet_id, user_name, created_at, text, cleaned_text,
       unnest(CASE WHEN len(mentions) = 0 THEN [NULL::VARCHAR] ELSE mentions END) AS mention,
       sentiment, sentiment_id, source_file, processing_time
FROM parsed;

SELECT delta_write(getvariable('silver'), s,
                   {'mode': 'overwrite', 'commit_message': 'rebuild silver from bronze'}) AS silver_write
FROM silver_new s;

-- Readers filter silver by mention and time: cluster it that way.
SELECT files_removed, files_added, rows
FROM optimize_zorder(getvariable('silver'), ['mention', 'created_at'], target_file_size := 33554432);
