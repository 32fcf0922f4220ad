-- Key names become unique whatever their case (a name is the actor of the key's audit rows), and
-- `admin-token` (the bootstrap token's actor) is reserved. Keys of an existing database that would
-- break either rule are renamed first, deterministically: the oldest key of a name (created first;
-- on a tie, the smaller id) keeps it, every other one and every `admin-token` key gets its id
-- appended, `alice` -> `alice (key_01k…)`. Past audit rows keep the names they were written with.
UPDATE `api_keys` SET `name` = `name` || ' (' || `id` || ')'
WHERE lower(`name`) = 'admin-token'
   OR EXISTS (
     SELECT 1 FROM `api_keys` AS `older`
     WHERE lower(`older`.`name`) = lower(`api_keys`.`name`)
       AND (`older`.`created_at` < `api_keys`.`created_at`
         OR (`older`.`created_at` = `api_keys`.`created_at` AND `older`.`id` < `api_keys`.`id`))
   );
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_name_unique` ON `api_keys` (lower("name"));
