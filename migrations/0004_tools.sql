CREATE TABLE `custom_tools` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`type` text NOT NULL,
	`category` text DEFAULT 'custom' NOT NULL,
	`parameters` text NOT NULL,
	`config` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `custom_tools_owner_name_unique` ON `custom_tools` (`owner_id`,lower("name"));--> statement-breakpoint
CREATE INDEX `custom_tools_owner_idx` ON `custom_tools` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `tool_memory` (
	`user_id` text NOT NULL,
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`user_id`, `scope`, `key`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tool_usage` (
	`id` text PRIMARY KEY NOT NULL,
	`tool_id` text NOT NULL,
	`tool_name` text NOT NULL,
	`tool_type` text NOT NULL,
	`user_id` text NOT NULL,
	`agent_id` text,
	`session_id` text,
	`caller` text DEFAULT 'api' NOT NULL,
	`duration_ms` integer NOT NULL,
	`ok` integer NOT NULL,
	`error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tool_usage_user_idx` ON `tool_usage` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `tool_usage_tool_idx` ON `tool_usage` (`tool_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `tool_usage_agent_idx` ON `tool_usage` (`agent_id`,`created_at`);