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
