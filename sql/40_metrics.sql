-- Metrics: the confusion matrix, per-class precision / recall / F1,
-- macro-F1 and accuracy of gold's binary predictions against the stream's
-- labels, computed here in SQL and logged to MLflow (mlflow_tracking_uri,
-- default ./mlruns) with the model and the table versions as params.
--
-- One evaluation per new gold version: a re-run with nothing new logs
-- nothing. Every evaluation is also kept in the Delta table `evaluations`; the
-- model is registered in MLflow's registry, aliased `champion`, when its
-- macro-F1 is the best so far.
CREATE OR REPLACE TEMP VIEW gold_src AS SELECT * FROM delta_read(getvariable('gold'));
-- one row per tweet: a tweet with several mentions is still one prediction
CREATE OR REPLACE TEMP TABLE eval_tweets AS
SELECT DISTINCT tweet_id, sentiment_id, predicted_sentiment_id FROM gold_src;

CREATE OR REPLACE TEMP TABLE confusion_matrix AS
SELECT CASE a.c WHEN 1 THEN 'positive' ELSE 'negative' END AS actual,
       CASE p.c WHEN 1 THEN 'positive' ELSE 'negative' END AS predicted,
       count(t.tweet_id) AS n
FROM (VALUES (0), (1)) a(c) CROSS JOIN (VALUES (0), (1)) p(c)
LEFT JOIN eval_tweets t ON t.sentiment_id = a.c AND t.predicted_sentiment_id = p.c
GROUP BY ALL ORDER BY actual, predicted;

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
UNION ALL SELECT 'tweets', (SELECT count(*) FROM eval_tweets);

SET VARIABLE evaluations_sql = delta_or_empty(getvariable('evaluations'),
    'NULL::BIGINT AS gold_version, NULL::DOUBLE AS macro_f1');
CREATE OR REPLACE TEMP TABLE versions AS
SELECT (SELECT max(version) FROM delta_history(getvariable('gold'))) AS gold_version,
       (SELECT max(version) FROM delta_history(getvariable('silver'))) AS silver_version,
       (SELECT max(gold_version) FROM query(getvariable('evaluations_sql'))) AS last_evaluated,
       (SELECT max(macro_f1) FROM query(getvariable('evaluations_sql'))) AS best_macro_f1;

-- zero rows when gold has not changed since the last evaluation: then every
-- statement below that reads `run` does nothing
CREATE OR REPLACE TEMP TABLE run AS
SELECT mlflow_start_run('medallion-tweet-sentiment', 'gold v' || v.gold_version,
                        MAP {'pipeline': 'medallion', 'layer': 'gold'}) AS id,
       v.*, m.model_name, m.model_version, s.value AS macro_f1
FROM versions v, (SELECT DISTINCT model_name, model_version FROM gold_src LIMIT 1) m,
     summary_metrics s
WHERE s.name = 'macro_f1' AND v.gold_version IS DISTINCT FROM v.last_evaluated;

SELECT mlflow_log_params(id, MAP {
           'model_name': model_name, 'model_version': model_version,
           'model_dir': getvariable('model_dir'),
           'gold_version': gold_version::VARCHAR, 'silver_version': silver_version::VARCHAR,
           'medallion': medallion_version()}) AS params_logged
FROM run;

SELECT mlflow_log_metrics(id, (SELECT list({'name': name, 'value': value}) FROM summary_metrics)) AS metrics_logged
FROM run;

SELECT mlflow_log_confusion_matrix(id, (SELECT list({'actual': actual, 'predicted': predicted, 'count': n})
                                        FROM confusion_matrix)) AS confusion_matrix
FROM run;

-- the best model so far goes to the registry, aliased `champion`
SELECT mlflow_register_model(model_name, getvariable('model_dir'), id,
           MAP {'macro_f1': macro_f1::VARCHAR, 'gold_version': gold_version::VARCHAR},
           'champion') AS registered
FROM run WHERE best_macro_f1 IS NULL OR macro_f1 > best_macro_f1;

SELECT delta_write(getvariable('evaluations'), e, {'commit_message': 'evaluation of gold'}) AS evaluation_write
FROM (
    SELECT id AS run_id, gold_version, silver_version, model_name, model_version,
           (SELECT value FROM summary_metrics WHERE name = 'accuracy') AS accuracy,
           macro_f1, get_current_timestamp() AS evaluated_at
    FROM run
) e;

SELECT mlflow_end_run(id, 'FINISHED') AS run_finished FROM run;

SELECT * FROM confusion_matrix;
SELECT label, tp, fp, fn, round(precision, 4) AS precision, round(recall, 4) AS recall, round(f1, 4) AS f1
FROM class_metrics;
SELECT name, round(value, 4) AS value FROM summary_metrics WHERE name IN ('accuracy', 'macro_f1', 'tweets');
