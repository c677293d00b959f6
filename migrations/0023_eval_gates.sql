CREATE TABLE `eval_gates` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`dataset_id` text NOT NULL,
	`scorer` text NOT NULL,
	`min_score` real NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `eval_gates_dataset_idx` ON `eval_gates` (`dataset_id`);