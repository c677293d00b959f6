CREATE TABLE `agent_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`version` integer NOT NULL,
	`snapshot` text NOT NULL,
	`created_by` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agent_versions_agent_version_unique` ON `agent_versions` (`agent_id`,`version`);--> statement-breakpoint
CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`system_prompt` text DEFAULT '' NOT NULL,
	`model_config` text,
	`iteration_limit` integer DEFAULT 15 NOT NULL,
	`include_tools` text DEFAULT '[]' NOT NULL,
	`workflow_config` text,
	`status` text DEFAULT 'draft' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`is_main_agent` integer DEFAULT 0 NOT NULL,
	`sub_agent_ids` text DEFAULT '[]' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `agents_owner_idx` ON `agents` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `agents_status_idx` ON `agents` (`status`);--> statement-breakpoint
CREATE TABLE `llm_calls` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`agent_id` text,
	`session_id` text,
	`provider` text NOT NULL,
	`model` text NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`latency_ms` integer NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`source` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `llm_calls_created_idx` ON `llm_calls` (`created_at`);--> statement-breakpoint
CREATE INDEX `llm_calls_user_idx` ON `llm_calls` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `llm_calls_agent_idx` ON `llm_calls` (`agent_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `model_configs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`is_system` integer DEFAULT 0 NOT NULL,
	`name` text NOT NULL,
	`provider` text NOT NULL,
	`model_name` text NOT NULL,
	`base_url` text,
	`api_key_encrypted` text,
	`api_key_hint` text,
	`temperature` real,
	`max_tokens` integer,
	`is_default` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `model_configs_owner_idx` ON `model_configs` (`owner_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `model_configs_user_default_unique` ON `model_configs` (`owner_id`) WHERE is_default = 1 AND is_system = 0;--> statement-breakpoint
CREATE UNIQUE INDEX `model_configs_system_default_unique` ON `model_configs` (`is_system`) WHERE is_default = 1 AND is_system = 1;--> statement-breakpoint
CREATE TABLE `chat_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`seq` integer NOT NULL,
	`role` text NOT NULL,
	`content` text,
	`tool_calls` text,
	`tool_call_id` text,
	`name` text,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `chat_messages_session_seq_unique` ON `chat_messages` (`session_id`,`seq`);--> statement-breakpoint
CREATE TABLE `chat_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`agent_id` text,
	`kind` text DEFAULT 'chat' NOT NULL,
	`title` text DEFAULT '' NOT NULL,
	`parent_session_id` text,
	`forked_from_message_id` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `chat_sessions_user_idx` ON `chat_sessions` (`user_id`,`updated_at`);--> statement-breakpoint
CREATE INDEX `chat_sessions_agent_idx` ON `chat_sessions` (`agent_id`,`kind`);--> statement-breakpoint
CREATE INDEX `chat_sessions_parent_idx` ON `chat_sessions` (`parent_session_id`);