-- A version per subscription: every change (PATCH of its content, pause, resume, cancel) adds one, so a client can
-- update with If-Match / expected_version and get 409 instead of overwriting a change it has not seen.
ALTER TABLE dist.report_subscriptions ADD COLUMN version integer NOT NULL DEFAULT 1;
