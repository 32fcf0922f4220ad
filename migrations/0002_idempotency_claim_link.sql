-- An Idempotency-Key claim names its holder (the request id) and its write-ahead audit row, linked
-- in the batch that commits the row: a claim that may have reached Exa is never taken over.
ALTER TABLE `idempotency_records` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `idempotency_records` ADD `event_id` text;