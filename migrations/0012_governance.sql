CREATE TABLE `alert_events` (
	`id` text PRIMARY KEY NOT NULL,
	`rule_id` text NOT NULL,
	`owner_id` text NOT NULL,
	`status` text NOT NULL,
	`metric` text NOT NULL,
	`value` real,
	`threshold` real NOT NULL,
	`message` text NOT NULL,
	`fired_at` text NOT NULL,
	`resolved_at` text,
	`resolved_value` real,
	`acknowledged_at` text,
	`acknowledged_by` text,
	`webhook_status` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_events_owner_idx` ON `alert_events` (`owner_id`,`fired_at`);--> statement-breakpoint
CREATE INDEX `alert_events_rule_idx` ON `alert_events` (`rule_id`,`fired_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `alert_events_open_unique` ON `alert_events` (`rule_id`) WHERE status = 'firing';--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`metric` text NOT NULL,
	`comparator` text NOT NULL,
	`threshold` real NOT NULL,
	`window_minutes` integer NOT NULL,
	`agent_id` text,
	`enabled` integer DEFAULT 1 NOT NULL,
	`webhook_url` text,
	`webhook_format` text DEFAULT 'json' NOT NULL,
	`state` text DEFAULT 'ok' NOT NULL,
	`last_value` real,
	`last_evaluated_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_rules_owner_idx` ON `alert_rules` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `alert_rules_enabled_idx` ON `alert_rules` (`enabled`);--> statement-breakpoint
CREATE TABLE `audit_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text,
	`action` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`resource_type` text,
	`resource_id` text,
	`status_code` integer NOT NULL,
	`ip` text,
	`user_agent` text,
	`request_id` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_logs_created_idx` ON `audit_logs` (`created_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_user_idx` ON `audit_logs` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_resource_idx` ON `audit_logs` (`resource_type`,`resource_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_action_idx` ON `audit_logs` (`action`,`created_at`);--> statement-breakpoint
CREATE TABLE `feedback` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`owner_id` text NOT NULL,
	`target_type` text NOT NULL,
	`target_id` text NOT NULL,
	`agent_id` text,
	`session_id` text,
	`thumb` text,
	`rating` integer,
	`sentiment` text NOT NULL,
	`comment` text DEFAULT '' NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`snapshot` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `feedback_user_target_unique` ON `feedback` (`user_id`,`target_type`,`target_id`);--> statement-breakpoint
CREATE INDEX `feedback_agent_idx` ON `feedback` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `feedback_owner_idx` ON `feedback` (`owner_id`,`sentiment`,`created_at`);--> statement-breakpoint
CREATE TABLE `resource_grants` (
	`id` text PRIMARY KEY NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`user_id` text NOT NULL,
	`level` text NOT NULL,
	`granted_by` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resource_grants_unique` ON `resource_grants` (`resource_type`,`resource_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `resource_grants_user_idx` ON `resource_grants` (`user_id`,`resource_type`);--> statement-breakpoint
CREATE TABLE `role_permissions` (
	`role_id` text NOT NULL,
	`permission` text NOT NULL,
	PRIMARY KEY(`role_id`, `permission`)
);
--> statement-breakpoint
CREATE TABLE `roles` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`is_builtin` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `roles_name_unique` ON `roles` (lower("name"));--> statement-breakpoint
CREATE TABLE `system_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`category` text NOT NULL,
	`level` text NOT NULL,
	`source` text NOT NULL,
	`message` text NOT NULL,
	`request_id` text,
	`user_id` text,
	`method` text,
	`path` text,
	`status_code` integer,
	`duration_ms` integer,
	`weight` real DEFAULT 1 NOT NULL,
	`data` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `system_logs_created_idx` ON `system_logs` (`created_at`);--> statement-breakpoint
CREATE INDEX `system_logs_category_idx` ON `system_logs` (`category`,`created_at`);--> statement-breakpoint
CREATE INDEX `system_logs_level_idx` ON `system_logs` (`level`,`created_at`);--> statement-breakpoint
CREATE INDEX `system_logs_user_idx` ON `system_logs` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `user_roles` (
	`user_id` text NOT NULL,
	`role_id` text NOT NULL,
	`assigned_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`user_id`, `role_id`)
);
--> statement-breakpoint
CREATE INDEX `user_roles_role_idx` ON `user_roles` (`role_id`);--> statement-breakpoint
CREATE INDEX `llm_calls_stats_idx` ON `llm_calls` (`created_at`,`provider`,`model`,`status`,`latency_ms`,`prompt_tokens`,`completion_tokens`);--> statement-breakpoint
CREATE INDEX `task_runs_started_idx` ON `task_runs` (`created_at`);