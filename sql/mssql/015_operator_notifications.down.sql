-- Rollback of 015.
DROP TABLE IF EXISTS ref.operator_notifications;
