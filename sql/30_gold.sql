-- Gold: BERT sentiment for every silver row, scored once per tweet.
--
-- Incremental: only what silver committed after the version gold last
-- consumed is scored (BERT is the costly step) and appended in one commit
-- that records the silver version it got to, so a re-run scores and writes
-- nothing. OPTIMIZE rewrites of silver are not new rows. The model is the
-- one `bert_sentiment` uses (SET bert_sentiment_model, else the shipped
-- default); its name and version from its config.json go with every row.
-- bert_sentiment chooses its ONNX Runtime threads itself.
INSERT INTO pass_summary VALUES ('gold', 'started', epoch(get_current_timestamp()), NULL);

SET VARIABLE gold_from    = consumed(getvariable('gold'), 'gold');
SET VARIABLE silver_until = delta_version(getvariable('silver'));
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
     NULL::TIMESTAMPTZ AS landed_at, NULL::TIMESTAMPTZ AS processing_time'));

CREATE OR REPLACE TEMP TABLE scored AS
SELECT tweet_id, bert_sentiment(cleaned_text) AS r
FROM (SELECT DISTINCT tweet_id, cleaned_text FROM silver_new);

-- Binary prediction, comparable with the stream's 0/4 labels: positive when
-- p(positive) >= p(negative); `predicted_score` is the top label's
-- probability in percent.
CREATE OR REPLACE TEMP TABLE gold_write AS
SELECT delta_write(getvariable('gold'), g, {
           'checkpoint_interval': 10, 'txn_app_id': 'medallion.gold', 'txn_version': getvariable('silver_until'),
           'txn_from_version': getvariable('gold_from'), 'commit_message': 'score new silver tweets'}) AS w
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
) AS x(g);

-- Small files of many passes are clustered together (see compact_sql).
CREATE OR REPLACE TEMP TABLE gold_compaction AS
SELECT * FROM query(compact_sql(getvariable('gold'), '[''mention'']', 64, 67108864, 8388608, NULL));

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
