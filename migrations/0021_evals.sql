CREATE TABLE `eval_dataset_rows` (
	`id` text PRIMARY KEY NOT NULL,
	`dataset_id` text NOT NULL,
	`position` integer NOT NULL,
	`input` text NOT NULL,
	`expected` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`added_version` integer NOT NULL,
	`removed_version` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `eval_dataset_rows_dataset_idx` ON `eval_dataset_rows` (`dataset_id`,`position`);--> statement-breakpoint
CREATE TABLE `eval_dataset_versions` (
	`dataset_id` text NOT NULL,
	`version` integer NOT NULL,
	`row_count` integer NOT NULL,
	`change` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `eval_dataset_versions_unique` ON `eval_dataset_versions` (`dataset_id`,`version`);--> statement-breakpoint
CREATE TABLE `eval_datasets` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`row_count` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `eval_datasets_owner_idx` ON `eval_datasets` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `eval_results` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`row_id` text NOT NULL,
	`position` integer NOT NULL,
	`output` text,
	`tool_calls` text DEFAULT '[]' NOT NULL,
	`scores` text DEFAULT '[]' NOT NULL,
	`passed` integer DEFAULT 0 NOT NULL,
	`latency_ms` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost` real DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `eval_results_run_row_unique` ON `eval_results` (`run_id`,`row_id`);--> statement-breakpoint
CREATE INDEX `eval_results_run_idx` ON `eval_results` (`run_id`,`position`);--> statement-breakpoint
CREATE TABLE `eval_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`dataset_id` text NOT NULL,
	`dataset_version` integer NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`target` text NOT NULL,
	`scorers` text NOT NULL,
	`price` text,
	`concurrency` integer DEFAULT 4 NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`total` integer NOT NULL,
	`done` integer DEFAULT 0 NOT NULL,
	`passed` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`summary` text,
	`error` text,
	`started_at` text,
	`finished_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `eval_runs_owner_idx` ON `eval_runs` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `eval_runs_dataset_idx` ON `eval_runs` (`dataset_id`,`created_at`);