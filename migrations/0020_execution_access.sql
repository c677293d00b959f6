CREATE INDEX `approvals_execution_idx` ON `approvals` (`execution_id`,`status`);--> statement-breakpoint
CREATE INDEX `executions_agent_idx` ON `executions` (`agent_id`,`created_at`);