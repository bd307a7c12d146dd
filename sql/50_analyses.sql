-- Analyses of gold: sentiment per mention (counts, first and last time),
-- the top positive and negative mentions, the most active users, and
-- sentiment over time by hour and by day; printed, and drawn as PNG charts
-- into the `reports` directory.
CREATE OR REPLACE TEMP VIEW gold_src AS SELECT * FROM delta_read(getvariable('gold'));
-- Analyses over gold. Times are reported in UTC so results do not depend on
-- the machine's zone.
SET TimeZone = 'UTC';

CREATE OR REPLACE TEMP TABLE mention_sentiment AS
SELECT mention,
       count(*) FILTER (WHERE predicted_sentiment = 'negative') AS negative,
       count(*) FILTER (WHERE predicted_sentiment = 'neutral')  AS neutral,
       count(*) FILTER (WHERE predicted_sentiment = 'positive') AS positive,
       count(*) AS tweets,
       min(created_at) AS first_seen,
       max(created_at) AS last_seen
FROM gold_src WHERE mention IS NOT NULL
GROUP BY mention;

CREATE OR REPLACE TEMP TABLE top_positive_mentions AS
SELECT mention, positive, tweets, round(100.0 * positive / tweets, 1) AS positive_pct
FROM mention_sentiment ORDER BY positive DESC, tweets DESC, mention LIMIT 10;

CREATE OR REPLACE TEMP TABLE top_negative_mentions AS
SELECT mention, negative, tweets, round(100.0 * negative / tweets, 1) AS negative_pct
FROM mention_sentiment ORDER BY negative DESC, tweets DESC, mention LIMIT 10;

CREATE OR REPLACE TEMP TABLE active_users AS
SELECT user_name,
       count(DISTINCT tweet_id) AS tweets,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'positive') AS positive,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'negative') AS negative,
       min(created_at) AS first_seen, max(created_at) AS last_seen
FROM gold_src GROUP BY user_name ORDER BY tweets DESC, user_name LIMIT 10;

CREATE OR REPLACE TEMP TABLE sentiment_by_hour AS
SELECT date_trunc('hour', created_at) AS hour,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'negative') AS negative,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'neutral')  AS neutral,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'positive') AS positive
FROM gold_src WHERE created_at IS NOT NULL GROUP BY 1 ORDER BY 1;

CREATE OR REPLACE TEMP TABLE sentiment_by_day AS
SELECT date_trunc('day', created_at)::DATE AS day,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'negative') AS negative,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'neutral')  AS neutral,
       count(DISTINCT tweet_id) FILTER (WHERE predicted_sentiment = 'positive') AS positive,
       round(avg(predicted_score), 1) AS mean_score
FROM gold_src WHERE created_at IS NOT NULL GROUP BY 1 ORDER BY 1;

SELECT medallion_chart(getvariable('reports') || '/top_positive_mentions.png',
           'Mentions with the most positive tweets', 'bar',
           list({'x': '@' || mention, 'y': positive::DOUBLE, 'series': 'positive'} ORDER BY positive DESC, mention)) AS chart
FROM top_positive_mentions
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/top_negative_mentions.png',
           'Mentions with the most negative tweets', 'bar',
           list({'x': '@' || mention, 'y': negative::DOUBLE, 'series': 'negative'} ORDER BY negative DESC, mention))
FROM top_negative_mentions
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/active_users.png',
           'Most active users', 'bar',
           list({'x': user_name, 'y': y, 'series': s} ORDER BY tweets DESC, user_name, s))
FROM (SELECT user_name, tweets, unnest([positive, negative])::DOUBLE AS y, unnest(['positive', 'negative']) AS s
      FROM active_users)
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/sentiment_by_day.png',
           'Tweets per day by predicted sentiment', 'bar',
           list({'x': strftime(day, '%Y-%m-%d'), 'y': y, 'series': s} ORDER BY day, s))
FROM (SELECT day, unnest([negative, neutral, positive])::DOUBLE AS y,
             unnest(['negative', 'neutral', 'positive']) AS s FROM sentiment_by_day)
UNION ALL
SELECT medallion_chart(getvariable('reports') || '/sentiment_by_hour.png',
           'Tweets per hour (UTC) by predicted sentiment', 'line',
           list({'x': strftime(hour, '%m-%d %H:00'), 'y': y, 'series': s} ORDER BY hour, s))
FROM (SELECT hour, unnest([negative, neutral, positive])::DOUBLE AS y,
             unnest(['negative', 'neutral', 'positive']) AS s FROM sentiment_by_hour);

SELECT '@' || mention AS mention, positive, tweets, positive_pct FROM top_positive_mentions;
SELECT '@' || mention AS mention, negative, tweets, negative_pct FROM top_negative_mentions;
SELECT user_name, tweets, positive, negative FROM active_users;
SELECT day, negative, neutral, positive, mean_score FROM sentiment_by_day ORDER BY day;
