CREATE TABLE `eval_workflow_gates` (
	`workflow_id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`dataset_id` text NOT NULL,
	`scorer` text NOT NULL,
	`min_score` real NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `eval_workflow_gates_dataset_idx` ON `eval_workflow_gates` (`dataset_id`);--> statement-breakpoint
CREATE TABLE `trace_exporters` (
	`user_id` text PRIMARY KEY NOT NULL,
	`endpoint` text NOT NULL,
	`headers` text,
	`headers_hint` text DEFAULT '{}' NOT NULL,
	`include_content` integer DEFAULT false NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
