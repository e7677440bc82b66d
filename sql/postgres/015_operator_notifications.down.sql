-- Rollback of 015: the kept operator notifications are lost (the in-memory feed of a running process is not).
DROP TABLE IF EXISTS ref.operator_notifications;
