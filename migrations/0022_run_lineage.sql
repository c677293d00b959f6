ALTER TABLE `execution_nodes` ADD `seq` integer;--> statement-breakpoint
ALTER TABLE `execution_nodes` ADD `reused_from` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `retry_of` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `forked_from` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `forked_at_node` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `attempt` integer DEFAULT 1 NOT NULL;