DROP TABLE feed_consumers;
