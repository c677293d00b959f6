CREATE TABLE `agent_schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`cron` text NOT NULL,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`input` text NOT NULL,
	`enabled` integer DEFAULT 1 NOT NULL,
	`next_run_at` text,
	`last_run_minute` text,
	`last_run_at` text,
	`last_execution_id` text,
	`run_count` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `agent_schedules_owner_idx` ON `agent_schedules` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `agent_schedules_due_idx` ON `agent_schedules` (`enabled`,`next_run_at`);--> statement-breakpoint
CREATE TABLE `batches` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`items` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `batches_owner_idx` ON `batches` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `channel_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`source` text NOT NULL,
	`source_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`input` text NOT NULL,
	`state` text DEFAULT 'queued' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `channel_runs_source_idx` ON `channel_runs` (`source_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `feishu_binding_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`open_id` text NOT NULL,
	`chat_id` text,
	`name` text,
	`code_hash` text NOT NULL,
	`code_expires_at` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`user_id` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `feishu_binding_requests_open_unique` ON `feishu_binding_requests` (`open_id`);--> statement-breakpoint
CREATE INDEX `feishu_binding_requests_status_idx` ON `feishu_binding_requests` (`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `feishu_bindings` (
	`open_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`agent_id` text,
	`name` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `feishu_bindings_user_unique` ON `feishu_bindings` (`user_id`);--> statement-breakpoint
CREATE TABLE `feishu_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`event_type` text NOT NULL,
	`received_at` integer NOT NULL,
	`processed_at` integer
);
--> statement-breakpoint
CREATE INDEX `feishu_events_received_idx` ON `feishu_events` (`received_at`);--> statement-breakpoint
CREATE TABLE `feishu_sessions` (
	`chat_id` text NOT NULL,
	`open_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`session_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`chat_id`, `open_id`, `agent_id`)
);
--> statement-breakpoint
CREATE TABLE `webhook_rate_limits` (
	`workflow_id` text NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workflow_id`, `window_start`)
);
--> statement-breakpoint
CREATE TABLE `workflow_webhooks` (
	`workflow_id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`secret` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
