CREATE TABLE `api_key_origins` (
	`origin` text NOT NULL,
	`key_id` text NOT NULL,
	PRIMARY KEY(`origin`, `key_id`)
);
--> statement-breakpoint
CREATE INDEX `api_key_origins_key_id` ON `api_key_origins` (`key_id`);--> statement-breakpoint
CREATE TABLE `api_key_secrets` (
	`hash` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer
);
--> statement-breakpoint
CREATE INDEX `api_key_secrets_key_id` ON `api_key_secrets` (`key_id`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`scopes` text NOT NULL,
	`origins` text,
	`rate_limit_requests` integer,
	`rate_limit_period_seconds` integer,
	`expires_at` integer,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE TABLE `audit_chain` (
	`seq` integer PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`row_hash` text NOT NULL,
	`chain_hash` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_chain_event_id_unique` ON `audit_chain` (`event_id`);--> statement-breakpoint
CREATE TABLE `audit_changed_fields` (
	`field` text NOT NULL,
	`event_id` text NOT NULL,
	PRIMARY KEY(`field`, `event_id`)
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`import_id` text,
	`outcome` text NOT NULL,
	`key_id` text,
	`actor` text NOT NULL,
	`subject_key_id` text,
	`reverts_event_id` text,
	`origin` text,
	`ip` text,
	`user_agent` text,
	`request_id` text NOT NULL,
	`upstream_request_id` text,
	`idempotency_key` text,
	`request_body` text,
	`before` text,
	`after` text,
	`changes` text,
	`upstream_status` integer,
	`error` text,
	`reconciled` integer DEFAULT false NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `audit_events_import_id` ON `audit_events` (`import_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_events_key_id` ON `audit_events` (`key_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_events_actor` ON `audit_events` (`actor`,`id`);--> statement-breakpoint
CREATE INDEX `audit_events_action` ON `audit_events` (`action`,`id`);--> statement-breakpoint
CREATE INDEX `audit_events_outcome` ON `audit_events` (`outcome`,`id`);--> statement-breakpoint
CREATE TABLE `idempotency_records` (
	`key_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`request_hash` text NOT NULL,
	`state` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`key_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_records_expires_at` ON `idempotency_records` (`expires_at`);