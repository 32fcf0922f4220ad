-- Issue 16: one row per call forwarded to Exa, and per-day totals kept by a trigger, so that
-- GET /usage reads the totals (their size grows with days x keys x routes, never with calls).
-- `cost_micros` is Exa's costDollars.total in millionths of a dollar (null when Exa gave none):
-- integers, so sums are exact. Ids are ULIDs: the export pages by id, newest first.
CREATE TABLE `usage_daily` (
	`day` text NOT NULL,
	`key_id` text NOT NULL,
	`route` text NOT NULL,
	`family` text NOT NULL,
	`calls` integer NOT NULL,
	`priced_calls` integer NOT NULL,
	`cost_micros` integer NOT NULL,
	PRIMARY KEY(`day`, `key_id`, `route`)
);
--> statement-breakpoint
CREATE INDEX `usage_daily_key_id` ON `usage_daily` (`key_id`,`day`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text,
	`actor` text NOT NULL,
	`family` text NOT NULL,
	`route` text NOT NULL,
	`status` integer,
	`request_id` text NOT NULL,
	`upstream_request_id` text,
	`cost_micros` integer,
	`duration_ms` integer NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `usage_events_key_id` ON `usage_events` (`key_id`,`id`);--> statement-breakpoint
-- A key's budget, `{"usd": 25, "period": "month", "soft": 20}` (JSON; null: none). Its spend in the
-- current period is kept by the key's RateLimiter Durable Object, which the request path already asks.
ALTER TABLE `api_keys` ADD `budget` text;--> statement-breakpoint
-- A usage row is written with ON CONFLICT (id) DO NOTHING (a retried write adds nothing twice): the trigger
-- fires only for a row actually inserted, so the totals count each call once.
CREATE TRIGGER `usage_events_daily` AFTER INSERT ON `usage_events` BEGIN
	INSERT INTO `usage_daily` (`day`, `key_id`, `route`, `family`, `calls`, `priced_calls`, `cost_micros`)
	VALUES (strftime('%Y-%m-%d', NEW.`at` / 1000, 'unixepoch'), coalesce(NEW.`key_id`, ''), NEW.`route`, NEW.`family`, 1,
		CASE WHEN NEW.`cost_micros` IS NULL THEN 0 ELSE 1 END, coalesce(NEW.`cost_micros`, 0))
	ON CONFLICT (`day`, `key_id`, `route`) DO UPDATE SET
		`calls` = `calls` + 1,
		`priced_calls` = `priced_calls` + excluded.`priced_calls`,
		`cost_micros` = `cost_micros` + excluded.`cost_micros`;
END;
