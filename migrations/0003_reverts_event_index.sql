-- At most one revert per event that did not fail: the write-ahead insert of an import.revert row
-- checks for another (pending, succeeded or unknown) in the same statement, by this index.
CREATE INDEX `audit_events_reverts_event_id` ON `audit_events` (`reverts_event_id`) WHERE "audit_events"."reverts_event_id" IS NOT NULL;