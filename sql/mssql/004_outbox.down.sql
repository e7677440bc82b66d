-- Rollback of 004: drops the event outbox and inbox (one batch; unpublished events are lost with them).
DROP TABLE IF EXISTS dist.inbox;
DROP TABLE IF EXISTS dist.outbox;
