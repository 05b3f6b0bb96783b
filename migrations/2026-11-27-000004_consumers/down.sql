DROP TABLE access_log;
DROP TABLE licenses;
