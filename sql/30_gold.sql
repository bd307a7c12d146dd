-- Gold: BERT sentiment for every silver row, scored once per tweet.
--
-- Incremental: only what silver committed after the version gold last
-- consumed is scored (BERT is the costly step) and appended in one commit
-- that records the silver version it got to, so a re-run scores and writes
-- nothing. OPTIMIZE rewrites of silver are not new rows. The model is the
-- one `bert_sentiment` uses (SET bert_sentiment_model, else the shipped
-- default); its name and version from its config.json go with every row.
-- bert_sentiment chooses its ONNX Runtime threads itself.
--
-- Written as a cluster writes: data files first (delta_write_files), then
-- one commit of all of them with gold's txn (delta_commit_files). Alone,
-- this script does both. On a Ray cluster (tools/pipeline.py --ray; see
-- tools/ray_gold.py) the driver fixes the plan (`gold_plan_from`,
-- `gold_plan_until`), each task runs this script on its share of the new
-- rows (`gold_share` of `gold_shares`, hashed by tweet id) with
-- `gold_commit = false`, and the driver runs it with `gold_shares = 0`
-- (scoring nothing) and the tasks' files in `gold_task_files`, committing
-- them all as one version.
INSERT INTO pass_summary VALUES ('gold', 'started', epoch(get_current_timestamp()), NULL);

SET VARIABLE gold_from    = coalesce(getvariable('gold_plan_from'), consumed(getvariable('gold'), 'gold'));
SET VARIABLE silver_until = coalesce(getvariable('gold_plan_until'), delta_version(getvariable('silver')));
SET VARIABLE gold_shares  = coalesce(getvariable('gold_shares'), 1);
SET VARIABLE gold_share   = coalesce(getvariable('gold_share'), 0);
SET VARIABLE gold_commit  = coalesce(getvariable('gold_commit'), true);
-- the directory bert_sentiment loads (a shipped model's name or a registry URI resolved)
SET VARIABLE model_dir = bert_sentiment_model_dir();
CREATE OR REPLACE TEMP TABLE model_info AS
SELECT coalesce(json_extract_string(json, '$.medallion.name'), parse_filename(getvariable('model_dir'))) AS model_name,
       coalesce(json_extract_string(json, '$.medallion.version'), 'unversioned') AS model_version
FROM read_json_objects(getvariable('model_dir') || '/config.json');

CREATE OR REPLACE TEMP TABLE silver_new AS
SELECT * FROM query(changes_or_empty(getvariable('silver'), getvariable('gold_from'), getvariable('silver_until'),
    'NULL::VARCHAR AS tweet_id, NULL::VARCHAR AS user_name, NULL::TIMESTAMPTZ AS created_at,
     NULL::VARCHAR AS text, NULL::VARCHAR AS cleaned_text, NULL::VARCHAR AS mention,
     NULL::VARCHAR AS sentiment, NULL::INTEGER AS sentiment_id, NULL::VARCHAR AS source_file,
     NULL::TIMESTAMPTZ AS landed_at, NULL::TIMESTAMPTZ AS processing_time'))
WHERE getvariable('gold_shares') > 0 AND hash(tweet_id) % getvariable('gold_shares') = getvariable('gold_share');

CREATE OR REPLACE TEMP TABLE scored AS
SELECT tweet_id, bert_sentiment(cleaned_text) AS r
FROM (SELECT DISTINCT tweet_id, cleaned_text FROM silver_new);

-- Binary prediction, comparable with the stream's 0/4 labels: positive when
-- p(positive) >= p(negative); `predicted_score` is the top label's
-- probability in percent.
CREATE OR REPLACE TEMP TABLE gold_files AS
SELECT (delta_write_files(getvariable('gold'), g)).files AS files
FROM (
    SELECT g FROM (
        SELECT s.tweet_id, s.user_name, s.created_at, s.text, s.cleaned_text, s.mention,
               s.sentiment, s.sentiment_id,
               sc.r.label AS predicted_sentiment,
               round(sc.r.score * 100, 2)::DOUBLE AS predicted_score,
               CASE WHEN map_extract_value(sc.r.probabilities, 'positive')
                         >= map_extract_value(sc.r.probabilities, 'negative') THEN 1 ELSE 0 END
                   AS predicted_sentiment_id,
               m.model_name, m.model_version, s.landed_at,
               get_current_timestamp() AS scored_at
        FROM silver_new s
        JOIN scored sc USING (tweet_id)
        CROSS JOIN model_info m
    ) g
    UNION ALL SELECT NULL WHERE getvariable('silver_until') > getvariable('gold_from')
) AS x(g)
UNION ALL
SELECT unnest(coalesce(getvariable('gold_task_files'), []::VARCHAR[]));

-- One commit of every file, recording the silver version gold got to.
CREATE OR REPLACE TEMP TABLE gold_write AS
SELECT delta_commit_files(getvariable('gold'), files, {
           'checkpoint_interval': 10, 'txn_app_id': 'medallion.gold', 'txn_version': getvariable('silver_until'),
           'txn_from_version': getvariable('gold_from'), 'commit_message': 'score new silver tweets'}) AS w
FROM gold_files WHERE getvariable('gold_commit');

-- Small files of many passes are clustered together (see compact_sql).
CREATE OR REPLACE TEMP TABLE gold_compaction AS
SELECT * FROM query(CASE WHEN getvariable('gold_commit')
    THEN compact_sql(getvariable('gold'), '[''mention'']', 64, 67108864, 8388608, NULL)
    ELSE 'SELECT NULL::BIGINT AS files_removed WHERE false' END);

INSERT INTO pass_summary
SELECT 'gold', 'scored', (SELECT count(*) FROM scored), NULL
WHERE (SELECT (w).status FROM gold_write) = 'committed'
UNION ALL
SELECT 'gold', 'model', NULL, (SELECT model_name || ' ' || model_version FROM model_info)
UNION ALL
-- from the newest landing file whose tweets reached gold in this pass to their gold commit
SELECT 'gold', 'latency_s',
       (SELECT epoch(get_current_timestamp()) - epoch(max(landed_at)) FROM silver_new
        WHERE (SELECT (w).status FROM gold_write) = 'committed'), NULL
UNION ALL
SELECT 'gold', 'contended', NULL, (SELECT (w).status FROM gold_write WHERE (w).status LIKE '%moved on%')
UNION ALL
SELECT 'gold', 'finished', epoch(get_current_timestamp()), NULL;
