-- Rollback of 013: loads in progress over parallel streams lose their per-part checkpoints (abort them first).
DROP TABLE IF EXISTS ref.load_parts;
