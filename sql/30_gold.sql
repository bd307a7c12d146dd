-- Gold: BERT sentiment for every silver row, scored once per tweet.
--
-- Incremental: only tweets not yet in gold are scored (BERT is the costly
-- step) and appended in one commit, so a re-run scores and writes nothing.
-- The model is the one `bert_sentiment` uses (SET bert_sentiment_model, else
-- the shipped default); its name and version from its config.json go with
-- every row.
SET VARIABLE gold_sql = delta_or_empty(getvariable('gold'), 'NULL::VARCHAR AS tweet_id');
SET VARIABLE model_dir = current_setting('bert_sentiment_model');
CREATE OR REPLACE TEMP TABLE model_info AS
SELECT coalesce(json_extract_string(json, '$.medallion.name'), parse_filename(getvariable('model_dir'))) AS model_name,
       coalesce(json_extract_string(json, '$.medallion.version'), 'unversioned') AS model_version
FROM read_json_objects(getvariable('model_dir') || '/config.json');

CREATE OR REPLACE TEMP TABLE to_score AS
SELECT DISTINCT tweet_id, cleaned_text FROM delta_read(getvariable('silver'))
WHERE tweet_id NOT IN (SELECT tweet_id FROM query(getvariable('gold_sql')) WHERE tweet_id IS NOT NULL);

-- ONNX Runtime threads: a batch of at most one row group (122,880 rows) is
-- scored by ONE DuckDB thread, so ONNX Runtime gets all of DuckDB's threads
-- then (1.7x faster on 2 cores); a bigger batch is already spread over
-- DuckDB's threads. A value other than the default 1 (from SET or
-- BERT_SENTIMENT_THREADS) is kept.
SET VARIABLE bert_threads = CASE
    WHEN current_setting('bert_sentiment_threads')::BIGINT <> 1 THEN current_setting('bert_sentiment_threads')::BIGINT
    WHEN (SELECT count(*) FROM to_score) <= 122880 THEN current_setting('threads')::BIGINT
    ELSE 1 END;
SET bert_sentiment_threads = getvariable('bert_threads');

CREATE OR REPLACE TEMP TABLE scored AS
SELECT tweet_id, bert_sentiment(cleaned_text) AS r FROM to_score;

-- Binary prediction, comparable with the stream's 0/4 labels: positive when
-- p(positive) >= p(negative); `predicted_score` is the top label's
-- probability in percent.
SELECT delta_write(getvariable('gold'), g, {'commit_message': 'score new silver tweets'}) AS gold_write
FROM (
    SELECT s.tweet_id, s.user_name, s.created_at, s.text, s.cleaned_text, s.mention,
           s.sentiment, s.sentiment_id,
           sc.r.label AS predicted_sentiment,
           round(sc.r.score * 100, 2)::DOUBLE AS predicted_score,
           CASE WHEN map_extract_value(sc.r.probabilities, 'positive')
                     >= map_extract_value(sc.r.probabilities, 'negative') THEN 1 ELSE 0 END
               AS predicted_sentiment_id,
           m.model_name, m.model_version,
           get_current_timestamp() AS scored_at
    FROM delta_read(getvariable('silver')) s
    JOIN scored sc USING (tweet_id)
    CROSS JOIN model_info m
) g;

SELECT (SELECT count(*) FROM to_score) AS tweets_scored;
