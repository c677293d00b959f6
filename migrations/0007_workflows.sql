CREATE TABLE `approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`execution_id` text NOT NULL,
	`node_id` text NOT NULL,
	`owner_id` text NOT NULL,
	`approver_id` text,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`comment` text,
	`decided_by` text,
	`decided_at` text,
	`timeout_at` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `approvals_approver_idx` ON `approvals` (`approver_id`,`status`);--> statement-breakpoint
CREATE INDEX `approvals_owner_idx` ON `approvals` (`owner_id`,`status`);--> statement-breakpoint
CREATE TABLE `execution_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`execution_id` text NOT NULL,
	`owner_id` text NOT NULL,
	`seq` integer NOT NULL,
	`node_id` text,
	`level` text NOT NULL,
	`message` text NOT NULL,
	`data` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `execution_logs_exec_idx` ON `execution_logs` (`execution_id`,`seq`);--> statement-breakpoint
CREATE INDEX `execution_logs_owner_idx` ON `execution_logs` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `execution_nodes` (
	`execution_id` text NOT NULL,
	`node_id` text NOT NULL,
	`node_type` text NOT NULL,
	`label` text,
	`status` text NOT NULL,
	`inputs` text,
	`outputs` text,
	`error` text,
	`branch` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`calls` text DEFAULT '[]' NOT NULL,
	`total_tokens` integer DEFAULT 0 NOT NULL,
	`started_at` text,
	`finished_at` text,
	`duration_ms` integer,
	PRIMARY KEY(`execution_id`, `node_id`)
);
--> statement-breakpoint
CREATE TABLE `executions` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`workflow_id` text,
	`workflow_version` integer,
	`agent_id` text,
	`parent_execution_id` text,
	`trigger` text DEFAULT 'api' NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`inputs` text DEFAULT '{}' NOT NULL,
	`graph` text,
	`outputs` text,
	`error` text,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`total_tokens` integer DEFAULT 0 NOT NULL,
	`started_at` text,
	`finished_at` text,
	`duration_ms` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `executions_owner_idx` ON `executions` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `executions_workflow_idx` ON `executions` (`workflow_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `executions_status_idx` ON `executions` (`status`);--> statement-breakpoint
CREATE TABLE `node_templates` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`node_type` text NOT NULL,
	`config` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `node_templates_owner_idx` ON `node_templates` (`owner_id`,`updated_at`);--> statement-breakpoint
CREATE TABLE `workflow_versions` (
	`workflow_id` text NOT NULL,
	`version` integer NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`graph` text NOT NULL,
	`inputs_schema` text DEFAULT '[]' NOT NULL,
	`note` text DEFAULT '' NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	PRIMARY KEY(`workflow_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `workflows` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`graph` text NOT NULL,
	`inputs_schema` text DEFAULT '[]' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`template_id` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `workflows_owner_idx` ON `workflows` (`owner_id`,`updated_at`);