CREATE TABLE `agent_schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`cron` text NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`input` text DEFAULT '' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`next_run_at` integer,
	`last_run_at` integer,
	`last_execution_id` text,
	`last_status` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `agent_schedules_due_idx` ON `agent_schedules` (`enabled`,`next_run_at`);--> statement-breakpoint
CREATE INDEX `agent_schedules_owner_idx` ON `agent_schedules` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `agent_schedules_agent_idx` ON `agent_schedules` (`agent_id`);--> statement-breakpoint
CREATE TABLE `batch_items` (
	`batch_id` text NOT NULL,
	`idx` integer NOT NULL,
	`type` text NOT NULL,
	`resource_id` text NOT NULL,
	`execution_id` text,
	`status` text NOT NULL,
	`error` text,
	PRIMARY KEY(`batch_id`, `idx`)
);
--> statement-breakpoint
CREATE INDEX `batch_items_execution_idx` ON `batch_items` (`execution_id`);--> statement-breakpoint
CREATE TABLE `batches` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`item_count` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `batches_owner_idx` ON `batches` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `schedule_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`schedule_id` text NOT NULL,
	`scheduled_for` integer NOT NULL,
	`trigger` text DEFAULT 'cron' NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`execution_id` text,
	`error` text,
	`claimed_at` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedule_runs_slot_unique` ON `schedule_runs` (`schedule_id`,`scheduled_for`);--> statement-breakpoint
CREATE INDEX `schedule_runs_status_idx` ON `schedule_runs` (`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_nonces` (
	`signature_hash` text PRIMARY KEY NOT NULL,
	`workflow_id` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_rate_windows` (
	`workflow_id` text NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workflow_id`, `window_start`)
);
--> statement-breakpoint
CREATE TABLE `webhook_secrets` (
	`workflow_id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`secret` text NOT NULL,
	`secret_hint` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`rotated_at` text
);
