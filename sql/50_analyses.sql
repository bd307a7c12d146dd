-- Analyses of gold: sentiment per mention (counts, first and last time),
-- the top positive and negative mentions, the most active users, and
-- sentiment over time by hour and by day, drawn as PNG charts into the
-- `reports` directory.
--
-- Incremental: three state tables (per mention, per user, per hour) hold
-- partial counts; a pass counts what gold committed since the version each
-- one consumed and appends that, in one commit that records that gold
-- version, and now and then compacts a table to one row per key. Their
-- size grows with the number of mentions, users and hours, not tweets (a
-- tweet reaches gold once, so per-batch distinct counts add up). The
-- charts are redrawn from them when they changed; the hourly one shows the
-- latest 168 hours that have tweets (a year of hours, 8,760 points, took
-- 0.37 s to draw and cannot be read). Times are UTC.
INSERT INTO pass_summary VALUES ('analyses', 'started', epoch(get_current_timestamp()), NULL);
SET TimeZone = 'UTC';

-- How many data files a state table holds (0 before its first commit).
CREATE OR REPLACE TEMP MACRO state_files(path) AS coalesce((SELECT count(*) FROM query(
    CASE WHEN delta_version(path) IS NOT NULL THEN 'SELECT * FROM delta_files(' || sql_text(path) || ')'
         ELSE 'SELECT 1 WHERE false' END)), 0);
-- SQL text reading a state table, when gold has something new for the
-- analyses (else `cols` with no rows: a pass with nothing new reads nothing).
CREATE OR REPLACE TEMP MACRO state_or_empty(path, cols) AS
    CASE WHEN getvariable('analyses_new') THEN delta_or_empty(path, cols)
         ELSE 'SELECT ' || cols || ' WHERE false' END;
-- A state table's write: its partials appended, or the table compacted.
CREATE OR REPLACE TEMP MACRO state_mode(compact) AS CASE WHEN compact THEN 'overwrite' ELSE 'append' END;

SET VARIABLE gold_until = delta_version(getvariable('gold'));
SET VARIABLE mentions_from = consumed(getvariable('mention_stats'), 'analyses');
SET VARIABLE users_from    = consumed(getvariable('user_stats'), 'analyses');
SET VARIABLE hours_from    = consumed(getvariable('hourly_stats'), 'analyses');
SET VARIABLE analyses_new  = coalesce(getvariable('gold_until'), -1)
    > least(getvariable('mentions_from'), getvariable('users_from'), getvariable('hours_from'));
CREATE OR REPLACE TEMP TABLE gold_new AS
SELECT * FROM query(changes_or_empty(getvariable('gold'),
    least(getvariable('mentions_from'), getvariable('users_from'), getvariable('hours_from')),
    getvariable('gold_until'),
    'NULL::VARCHAR AS tweet_id, NULL::VARCHAR AS user_name, NULL::TIMESTAMPTZ AS created_at,
     NULL::VARCHAR AS mention, NULL::VARCHAR AS predicted_sentiment, NULL::DOUBLE AS predicted_score'));

-- This pass's partial counts per mention (one gold row per (tweet, mention)),
-- per user and per hour (distinct tweets: a tweet with two mentions is two
-- gold rows); each state table below holds such partials.
CREATE OR REPLACE TEMP TABLE mention_new AS
SELECT mention,
       count(*) FILTER (WHERE predicted_sentiment = 'negative') AS negative,
       count(*) FILTER (WHERE predicted_sentiment = 'neutral')  AS neutral,
       count(*) FILTER (WHERE predicted_sentiment = 'positive') AS positive,
       count(*) AS tweets, min(created_at) AS first_seen, max(created_at) AS last_seen
FROM gold_new WHERE mention IS NOT NULL AND _commit_version > getvariable('mentions_from')
GROUP BY mention;

CREATE OR REPLACE TEMP TABLE user_new AS
SELECT user_name,
       count(DISTINCT tweet_id) AS tweets,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'positive') AS positive,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'negative') AS negative,
       min(created_at) AS first_seen, max(created_at) AS last_seen
FROM gold_new WHERE _commit_version > getvariable('users_from')
GROUP BY user_name;

CREATE OR REPLACE TEMP TABLE hour_new AS
SELECT date_trunc('hour', created_at) AS hour,
       count(*) FILTER (WHERE predicted_sentiment = 'negative') AS negative,
       count(*) FILTER (WHERE predicted_sentiment = 'neutral')  AS neutral,
       count(*) FILTER (WHERE predicted_sentiment = 'positive') AS positive,
       count(*) AS tweets, sum(predicted_score) AS score_sum
FROM (SELECT DISTINCT tweet_id, created_at, predicted_sentiment, predicted_score
      FROM gold_new WHERE _commit_version > getvariable('hours_from'))
WHERE created_at IS NOT NULL
GROUP BY 1;

-- What the state tables hold (partials of earlier passes; not read when
-- gold has nothing new for any of them), and the running totals: their
-- partials and this pass's, summed per key.
CREATE OR REPLACE TEMP TABLE mention_old AS
SELECT * FROM query(state_or_empty(getvariable('mention_stats'),
    'NULL::VARCHAR AS mention, NULL::BIGINT AS negative, NULL::BIGINT AS neutral, NULL::BIGINT AS positive,
     NULL::BIGINT AS tweets, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen'));
CREATE OR REPLACE TEMP TABLE user_old AS
SELECT * FROM query(state_or_empty(getvariable('user_stats'),
    'NULL::VARCHAR AS user_name, NULL::BIGINT AS tweets, NULL::BIGINT AS positive,
     NULL::BIGINT AS negative, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen'));
CREATE OR REPLACE TEMP TABLE hour_old AS
SELECT * FROM query(state_or_empty(getvariable('hourly_stats'),
    'NULL::TIMESTAMPTZ AS hour, NULL::BIGINT AS negative, NULL::BIGINT AS neutral,
     NULL::BIGINT AS positive, NULL::BIGINT AS tweets, NULL::DOUBLE AS score_sum'));

CREATE OR REPLACE TEMP TABLE mention_stats AS
SELECT mention, sum(negative)::BIGINT AS negative, sum(neutral)::BIGINT AS neutral,
       sum(positive)::BIGINT AS positive, sum(tweets)::BIGINT AS tweets,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM (FROM mention_old UNION ALL BY NAME FROM mention_new) GROUP BY mention;

CREATE OR REPLACE TEMP TABLE user_stats AS
SELECT user_name, sum(tweets)::BIGINT AS tweets, sum(positive)::BIGINT AS positive,
       sum(negative)::BIGINT AS negative, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM (FROM user_old UNION ALL BY NAME FROM user_new) GROUP BY user_name;

CREATE OR REPLACE TEMP TABLE hourly_stats AS
SELECT hour, sum(negative)::BIGINT AS negative, sum(neutral)::BIGINT AS neutral,
       sum(positive)::BIGINT AS positive, sum(tweets)::BIGINT AS tweets, sum(score_sum) AS score_sum
FROM (FROM hour_old UNION ALL BY NAME FROM hour_new) GROUP BY hour;

-- A pass appends its partials (what it writes grows with what is new), in
-- one commit per state table recording the gold version it consumed. Once
-- a state table holds 16 files or twice as many rows as keys, that commit
-- instead rewrites it as the totals, one row per key (compaction: each
-- row is rewritten about once per 16 passes, and reads stay small).
SET VARIABLE mentions_compact = (SELECT count(*) FROM mention_old) + (SELECT count(*) FROM mention_new)
    > 2 * (SELECT count(*) FROM mention_stats) OR state_files(getvariable('mention_stats')) >= 16;
SET VARIABLE users_compact = (SELECT count(*) FROM user_old) + (SELECT count(*) FROM user_new)
    > 2 * (SELECT count(*) FROM user_stats) OR state_files(getvariable('user_stats')) >= 16;
SET VARIABLE hours_compact = (SELECT count(*) FROM hour_old) + (SELECT count(*) FROM hour_new)
    > 2 * (SELECT count(*) FROM hourly_stats) OR state_files(getvariable('hourly_stats')) >= 16;

CREATE OR REPLACE TEMP TABLE state_writes AS
SELECT 'mention_stats' AS state, delta_write(getvariable('mention_stats'), t, {
           'mode': state_mode(getvariable('mentions_compact')), 'checkpoint_interval': 10,
           'txn_app_id': 'medallion.analyses', 'txn_version': getvariable('gold_until'),
           'txn_from_version': getvariable('mentions_from')}) AS w
FROM (SELECT t FROM mention_stats t WHERE getvariable('mentions_compact')
      UNION ALL SELECT t FROM mention_new t WHERE NOT getvariable('mentions_compact')
      UNION ALL SELECT NULL) AS x(t)
WHERE getvariable('gold_until') > getvariable('mentions_from')
UNION ALL
SELECT 'user_stats', delta_write(getvariable('user_stats'), t, {
           'mode': state_mode(getvariable('users_compact')), 'checkpoint_interval': 10,
           'txn_app_id': 'medallion.analyses', 'txn_version': getvariable('gold_until'),
           'txn_from_version': getvariable('users_from')})
FROM (SELECT t FROM user_stats t WHERE getvariable('users_compact')
      UNION ALL SELECT t FROM user_new t WHERE NOT getvariable('users_compact')
      UNION ALL SELECT NULL) AS x(t)
WHERE getvariable('gold_until') > getvariable('users_from')
UNION ALL
SELECT 'hourly_stats', delta_write(getvariable('hourly_stats'), t, {
           'mode': state_mode(getvariable('hours_compact')), 'checkpoint_interval': 10,
           'txn_app_id': 'medallion.analyses', 'txn_version': getvariable('gold_until'),
           'txn_from_version': getvariable('hours_from')})
FROM (SELECT t FROM hourly_stats t WHERE getvariable('hours_compact')
      UNION ALL SELECT t FROM hour_new t WHERE NOT getvariable('hours_compact')
      UNION ALL SELECT NULL) AS x(t)
WHERE getvariable('gold_until') > getvariable('hours_from');

SET VARIABLE analyses_changed = (SELECT count(*) > 0 FROM state_writes WHERE (w).status = 'committed');

CREATE OR REPLACE TEMP TABLE top_positive_mentions AS
SELECT mention, positive, tweets, round(100.0 * positive / tweets, 1) AS positive_pct
FROM mention_stats ORDER BY positive DESC, tweets DESC, mention LIMIT 10;

CREATE OR REPLACE TEMP TABLE top_negative_mentions AS
SELECT mention, negative, tweets, round(100.0 * negative / tweets, 1) AS negative_pct
FROM mention_stats ORDER BY negative DESC, tweets DESC, mention LIMIT 10;

CREATE OR REPLACE TEMP TABLE active_users AS
SELECT user_name, tweets, positive, negative, first_seen, last_seen
FROM user_stats ORDER BY tweets DESC, user_name LIMIT 10;

CREATE OR REPLACE TEMP TABLE sentiment_by_day AS
SELECT date_trunc('day', hour)::DATE AS day, sum(negative) AS negative, sum(neutral) AS neutral,
       sum(positive) AS positive, round(sum(score_sum) / sum(tweets), 1) AS mean_score
FROM hourly_stats GROUP BY 1 ORDER BY 1;

CREATE OR REPLACE TEMP TABLE charts AS
SELECT medallion_chart(getvariable('reports') || '/top_positive_mentions.png',
           'Mentions with the most positive tweets', 'bar',
           list({'x': '@' || mention, 'y': positive::DOUBLE, 'series': 'positive'} ORDER BY positive DESC, mention)) AS chart
FROM top_positive_mentions WHERE getvariable('analyses_changed')
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/top_negative_mentions.png',
           'Mentions with the most negative tweets', 'bar',
           list({'x': '@' || mention, 'y': negative::DOUBLE, 'series': 'negative'} ORDER BY negative DESC, mention))
FROM top_negative_mentions WHERE getvariable('analyses_changed')
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/active_users.png',
           'Most active users', 'bar',
           list({'x': user_name, 'y': y, 'series': s} ORDER BY tweets DESC, user_name, s))
FROM (SELECT user_name, tweets, unnest([positive, negative])::DOUBLE AS y, unnest(['positive', 'negative']) AS s
      FROM active_users) WHERE getvariable('analyses_changed')
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/sentiment_by_day.png',
           'Tweets per day by predicted sentiment', 'bar',
           list({'x': strftime(day, '%Y-%m-%d'), 'y': y, 'series': s} ORDER BY day, s))
FROM (SELECT day, unnest([negative, neutral, positive])::DOUBLE AS y,
             unnest(['negative', 'neutral', 'positive']) AS s FROM sentiment_by_day)
WHERE getvariable('analyses_changed')
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/sentiment_by_hour.png',
           'Tweets per hour (UTC) by predicted sentiment, latest 168 hours with tweets', 'line',
           list({'x': strftime(hour, '%m-%d %H:00'), 'y': y, 'series': s} ORDER BY hour, s))
FROM (SELECT hour, unnest([negative, neutral, positive])::DOUBLE AS y,
             unnest(['negative', 'neutral', 'positive']) AS s
      FROM (SELECT * FROM hourly_stats ORDER BY hour DESC LIMIT 168))
WHERE getvariable('analyses_changed');

INSERT INTO pass_summary
SELECT 'analyses', 'mentions', (SELECT count(*) FROM mention_stats), NULL WHERE getvariable('analyses_new')
UNION ALL
SELECT 'analyses', 'users', (SELECT count(*) FROM user_stats), NULL WHERE getvariable('analyses_new')
UNION ALL
SELECT 'analyses', 'charts', (SELECT count(chart) FROM charts), NULL
UNION ALL
SELECT 'analyses', 'contended', NULL,
       (SELECT string_agg(state || ': ' || (w).status, '; ') FROM state_writes WHERE (w).status LIKE '%moved on%')
UNION ALL
SELECT 'analyses', 'finished', epoch(get_current_timestamp()), NULL;
