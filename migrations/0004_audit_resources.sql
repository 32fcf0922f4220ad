-- The audit names a resource, not only an import (issue 15 §3): `resource_type` (`import`, `webhook`,
-- `webset`, `key`), `resource_id`, and `parent_id` (a webset, for its items, searches, enrichments).
-- Rows already written keep their hashes: `seal_version` 1 (the default, so every existing row) is
-- hashed over the columns it was sealed with, which do not include the new ones; new rows are
-- written with version 2, whose seal covers them (src/audit/seal.ts). The resource of a version 1
-- row is derived here from columns its seal covers (action, import_id, subject_key_id), and verify
-- checks that it still is.
ALTER TABLE `audit_events` ADD `resource_type` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `resource_id` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `parent_id` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `seal_version` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
UPDATE `audit_events` SET `resource_type` = 'import', `resource_id` = `import_id` WHERE `action` LIKE 'import.%';--> statement-breakpoint
UPDATE `audit_events` SET `resource_type` = 'key', `resource_id` = `subject_key_id` WHERE `action` LIKE 'key.%';--> statement-breakpoint
CREATE INDEX `audit_events_resource_id` ON `audit_events` (`resource_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_events_resource_type` ON `audit_events` (`resource_type`,`id`);
