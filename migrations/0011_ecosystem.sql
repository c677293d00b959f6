CREATE TABLE `data_sources` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`type` text NOT NULL,
	`config` text NOT NULL,
	`credentials_encrypted` text,
	`credential_fields` text DEFAULT '[]' NOT NULL,
	`last_tested_at` text,
	`last_test_ok` integer,
	`last_test_error` text,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `data_sources_owner_idx` ON `data_sources` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `market_favorites` (
	`listing_id` text NOT NULL,
	`user_id` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `market_favorites_unique` ON `market_favorites` (`listing_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `market_favorites_user_idx` ON `market_favorites` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `market_installs` (
	`id` text PRIMARY KEY NOT NULL,
	`listing_id` text NOT NULL,
	`kind` text NOT NULL,
	`user_id` text NOT NULL,
	`resource_id` text NOT NULL,
	`installed_version` integer NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `market_installs_unique` ON `market_installs` (`listing_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `market_installs_user_idx` ON `market_installs` (`user_id`,`kind`,`created_at`);--> statement-breakpoint
CREATE TABLE `market_listing_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`listing_id` text NOT NULL,
	`version` integer NOT NULL,
	`version_label` text NOT NULL,
	`content` text NOT NULL,
	`changelog` text DEFAULT '' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `market_listing_versions_unique` ON `market_listing_versions` (`listing_id`,`version`);--> statement-breakpoint
CREATE TABLE `market_listings` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`publisher_id` text NOT NULL,
	`source_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`category` text NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`version_label` text DEFAULT '1.0.0' NOT NULL,
	`content` text NOT NULL,
	`status` text DEFAULT 'published' NOT NULL,
	`install_count` integer DEFAULT 0 NOT NULL,
	`rating_count` integer DEFAULT 0 NOT NULL,
	`rating_avg` real DEFAULT 0 NOT NULL,
	`favorite_count` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `market_listings_kind_idx` ON `market_listings` (`kind`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `market_listings_publisher_idx` ON `market_listings` (`publisher_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `market_listings_source_unique` ON `market_listings` (`kind`,`source_id`);--> statement-breakpoint
CREATE TABLE `market_ratings` (
	`id` text PRIMARY KEY NOT NULL,
	`listing_id` text NOT NULL,
	`user_id` text NOT NULL,
	`rating` integer NOT NULL,
	`review` text DEFAULT '' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `market_ratings_unique` ON `market_ratings` (`listing_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `market_ratings_listing_idx` ON `market_ratings` (`listing_id`,`updated_at`);--> statement-breakpoint
CREATE TABLE `orchestration_templates` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`mode` text NOT NULL,
	`roles` text NOT NULL,
	`config` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `orchestration_templates_owner_idx` ON `orchestration_templates` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `plugin_installations` (
	`id` text PRIMARY KEY NOT NULL,
	`plugin_id` text NOT NULL,
	`user_id` text NOT NULL,
	`enabled` integer DEFAULT 1 NOT NULL,
	`settings_encrypted` text,
	`settings_hint` text DEFAULT '{}' NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `plugin_installations_unique` ON `plugin_installations` (`plugin_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `plugin_installations_user_idx` ON `plugin_installations` (`user_id`,`enabled`);--> statement-breakpoint
CREATE TABLE `plugins` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`slug` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`category` text DEFAULT 'general' NOT NULL,
	`version` text DEFAULT '1.0.0' NOT NULL,
	`kind` text DEFAULT 'openapi' NOT NULL,
	`base_url` text NOT NULL,
	`auth` text NOT NULL,
	`operations` text NOT NULL,
	`spec` text NOT NULL,
	`is_published` integer DEFAULT 0 NOT NULL,
	`install_count` integer DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `plugins_owner_idx` ON `plugins` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `plugins_published_idx` ON `plugins` (`is_published`,`install_count`);