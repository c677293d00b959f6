ALTER TABLE `chat_messages` ADD `interrupted` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `agents` ADD `multitask_strategy` text DEFAULT 'enqueue' NOT NULL;