-- Metrics: the confusion matrix, per-class precision / recall / F1,
-- macro-F1 and accuracy of gold's binary predictions against the stream's
-- labels, computed here in SQL and logged to MLflow (mlflow_tracking_uri,
-- default ./mlruns) with the model and the table versions as params.
--
-- Incremental: the evaluations table keeps the cumulative confusion counts
-- of every gold tweet so far; a pass adds the counts of the tweets gold
-- committed since the last evaluation (one tweet, one prediction, whatever
-- its mentions) and logs one evaluation. A pass with nothing new in gold
-- logs nothing. The evaluation's commit records the gold version it covers
-- (compare-and-set); a concurrent pass that evaluated first wins, and the
-- loser's MLflow run is ended KILLED. The model is registered in MLflow's
-- registry, aliased `champion`, when its macro-F1 is the best so far.
INSERT INTO pass_summary VALUES ('metrics', 'started', epoch(get_current_timestamp()), NULL);

SET VARIABLE metrics_from = consumed(getvariable('evaluations'), 'metrics');
SET VARIABLE gold_until   = delta_version(getvariable('gold'));
CREATE OR REPLACE TEMP TABLE gold_new AS
SELECT DISTINCT tweet_id, sentiment_id, predicted_sentiment_id, model_name, model_version
FROM query(changes_or_empty(getvariable('gold'), getvariable('metrics_from'), getvariable('gold_until'),
    'NULL::VARCHAR AS tweet_id, NULL::INTEGER AS sentiment_id, NULL::INTEGER AS predicted_sentiment_id,
     NULL::VARCHAR AS model_name, NULL::VARCHAR AS model_version'));

-- the counts so far: the latest evaluation's (one row per evaluation commit)
SET VARIABLE evaluations_version = delta_version(getvariable('evaluations'));
CREATE OR REPLACE TEMP TABLE previous AS
SELECT * FROM query(CASE WHEN getvariable('evaluations_version') IS NOT NULL
    THEN 'SELECT neg_as_neg, neg_as_pos, pos_as_neg, pos_as_pos, best_macro_f1 FROM delta_changes('
         || sql_text(getvariable('evaluations')) || ', ' || (getvariable('evaluations_version') - 1)
         || ', until_version := ' || getvariable('evaluations_version') || ')'
    ELSE 'SELECT NULL::BIGINT AS neg_as_neg, NULL::BIGINT AS neg_as_pos, NULL::BIGINT AS pos_as_neg,
                 NULL::BIGINT AS pos_as_pos, NULL::DOUBLE AS best_macro_f1 WHERE false' END);

CREATE OR REPLACE TEMP TABLE counts AS
WITH new_counts AS (
    SELECT count(*) FILTER (WHERE sentiment_id = 0 AND predicted_sentiment_id = 0) AS neg_as_neg,
           count(*) FILTER (WHERE sentiment_id = 0 AND predicted_sentiment_id = 1) AS neg_as_pos,
           count(*) FILTER (WHERE sentiment_id = 1 AND predicted_sentiment_id = 0) AS pos_as_neg,
           count(*) FILTER (WHERE sentiment_id = 1 AND predicted_sentiment_id = 1) AS pos_as_pos,
           count(*) AS new_tweets
    FROM gold_new
)
SELECT n.neg_as_neg + coalesce(p.neg_as_neg, 0) AS neg_as_neg,
       n.neg_as_pos + coalesce(p.neg_as_pos, 0) AS neg_as_pos,
       n.pos_as_neg + coalesce(p.pos_as_neg, 0) AS pos_as_neg,
       n.pos_as_pos + coalesce(p.pos_as_pos, 0) AS pos_as_pos,
       n.new_tweets, p.best_macro_f1
FROM new_counts n LEFT JOIN previous p ON true;

CREATE OR REPLACE TEMP TABLE confusion_matrix AS
SELECT actual, predicted,
       CASE actual || '/' || predicted
           WHEN 'negative/negative' THEN neg_as_neg WHEN 'negative/positive' THEN neg_as_pos
           WHEN 'positive/negative' THEN pos_as_neg ELSE pos_as_pos END AS n
FROM (VALUES ('negative', 'negative'), ('negative', 'positive'),
             ('positive', 'negative'), ('positive', 'positive')) m(actual, predicted), counts
ORDER BY actual, predicted;

CREATE OR REPLACE TEMP TABLE class_metrics AS
WITH per AS (
    SELECT actual AS label,
           sum(n) FILTER (WHERE predicted = actual)::BIGINT AS tp,
           sum(n) FILTER (WHERE predicted <> actual)::BIGINT AS fn
    FROM confusion_matrix GROUP BY actual
), fp AS (
    SELECT predicted AS label, sum(n) FILTER (WHERE predicted <> actual)::BIGINT AS fp
    FROM confusion_matrix GROUP BY predicted
)
SELECT per.label, tp, fp, fn,
       CASE WHEN tp + fp = 0 THEN 0 ELSE tp / (tp + fp) END AS precision,
       CASE WHEN tp + fn = 0 THEN 0 ELSE tp / (tp + fn) END AS recall,
       CASE WHEN 2 * tp + fp + fn = 0 THEN 0 ELSE 2 * tp / (2 * tp + fp + fn) END AS f1
FROM per JOIN fp USING (label) ORDER BY per.label;

CREATE OR REPLACE TEMP TABLE summary_metrics AS
SELECT 'accuracy' AS name, (SELECT sum(tp) FROM class_metrics) / (SELECT sum(n) FROM confusion_matrix) AS value
UNION ALL SELECT 'macro_f1', avg(f1) FROM class_metrics
UNION ALL SELECT 'macro_precision', avg(precision) FROM class_metrics
UNION ALL SELECT 'macro_recall', avg(recall) FROM class_metrics
UNION ALL SELECT label || '_' || m.k, m.v FROM class_metrics,
    LATERAL (VALUES ('precision', precision), ('recall', recall), ('f1', f1)) m(k, v)
UNION ALL SELECT 'tweets', (SELECT sum(n) FROM confusion_matrix);

-- One run per evaluation; zero rows when gold brought no new tweet, and
-- then every statement below that reads `run` does nothing.
CREATE OR REPLACE TEMP TABLE run AS
SELECT mlflow_start_run('medallion-tweet-sentiment', 'gold v' || getvariable('gold_until'),
                        MAP {'pipeline': 'medallion', 'layer': 'gold'}) AS id,
       getvariable('gold_until') AS gold_version,
       delta_version(getvariable('silver')) AS silver_version,
       m.model_name, m.model_version, s.value AS macro_f1, c.best_macro_f1
FROM counts c, summary_metrics s,
     (SELECT model_name, model_version FROM gold_new ORDER BY tweet_id LIMIT 1) m
WHERE s.name = 'macro_f1' AND c.new_tweets > 0;

CREATE OR REPLACE TEMP TABLE run_logged AS
SELECT mlflow_log_params(id, MAP {
           'model_name': model_name, 'model_version': model_version,
           'model_dir': getvariable('model_dir'),
           'gold_version': gold_version::VARCHAR, 'silver_version': silver_version::VARCHAR,
           'medallion': medallion_version()}) AS params,
       mlflow_log_metrics(id, (SELECT list({'name': name, 'value': value}) FROM summary_metrics)) AS metrics,
       mlflow_log_confusion_matrix(id, (SELECT list({'actual': actual, 'predicted': predicted, 'count': n})
                                        FROM confusion_matrix)) AS confusion_matrix
FROM run;

CREATE OR REPLACE TEMP TABLE evaluation_write AS
SELECT delta_write(getvariable('evaluations'), e, {
           'checkpoint_interval': 10, 'txn_app_id': 'medallion.metrics', 'txn_version': getvariable('gold_until'),
           'txn_from_version': getvariable('metrics_from'), 'commit_message': 'evaluation of gold'}) AS w
FROM (
    SELECT r.id AS run_id, r.gold_version, r.silver_version, r.model_name, r.model_version,
           (SELECT value FROM summary_metrics WHERE name = 'accuracy') AS accuracy,
           r.macro_f1, greatest(r.macro_f1, coalesce(r.best_macro_f1, r.macro_f1)) AS best_macro_f1,
           (SELECT sum(n) FROM confusion_matrix)::BIGINT AS tweets,
           c.neg_as_neg, c.neg_as_pos, c.pos_as_neg, c.pos_as_pos,
           get_current_timestamp() AS evaluated_at
    FROM run r, counts c
) e;

-- only a committed evaluation may crown a model: the best so far becomes `champion`
CREATE OR REPLACE TEMP TABLE registered AS
SELECT mlflow_register_model(r.model_name, getvariable('model_dir'), r.id,
           MAP {'macro_f1': r.macro_f1::VARCHAR, 'gold_version': r.gold_version::VARCHAR},
           'champion') AS version
FROM run r, evaluation_write e
WHERE (e.w).status = 'committed' AND (r.best_macro_f1 IS NULL OR r.macro_f1 > r.best_macro_f1);

CREATE OR REPLACE TEMP TABLE run_finished AS
SELECT mlflow_end_run(r.id, CASE WHEN (e.w).status = 'committed' THEN 'FINISHED' ELSE 'KILLED' END) AS ended
FROM run r, evaluation_write e;

INSERT INTO pass_summary
SELECT 'metrics', name, value, NULL FROM summary_metrics
WHERE name IN ('accuracy', 'macro_f1', 'tweets') AND (SELECT count(*) FROM run) > 0
UNION ALL
SELECT 'metrics', 'run', NULL, (SELECT id FROM run)
UNION ALL
SELECT 'metrics', 'champion', (SELECT (version).version FROM registered), NULL
UNION ALL
SELECT 'metrics', 'contended', NULL, (SELECT (w).status FROM evaluation_write WHERE (w).status LIKE '%moved on%')
UNION ALL
SELECT 'metrics', 'finished', epoch(get_current_timestamp()), NULL;
