ALTER TABLE `approvals` ADD `kind` text DEFAULT 'approval' NOT NULL;--> statement-breakpoint
ALTER TABLE `approvals` ADD `fields` text;--> statement-breakpoint
ALTER TABLE `approvals` ADD `values` text;