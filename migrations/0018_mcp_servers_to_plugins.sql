-- Remote MCP servers move from their own table into plugins of kind `mcp` (0019 drops the table).
-- A server becomes a plugin with the same id and its owner's installation: the slug is the server
-- name (so tool names mcp_<server>_<tool> and agents' include_tools stay valid), the cached tool
-- list keeps its shape, and the encrypted headers JSON is exactly an installation's settings.
INSERT INTO `plugins` (`id`, `owner_id`, `name`, `slug`, `description`, `category`, `version`, `kind`, `base_url`, `auth`, `operations`, `spec`, `is_published`, `install_count`, `created_at`, `updated_at`)
SELECT `id`, `owner_id`, `name`, `name`, `description`, 'general',
  coalesce(CAST(json_extract(`server_info`, '$.version') AS TEXT), '1.0.0'), 'mcp', `url`,
  json_object('type', 'headers', 'headers', json(`header_names`)),
  `tools`,
  json_object('server_info', json(`server_info`), 'protocol_version', `protocol_version`, 'refreshed_at', `refreshed_at`),
  0, 1, `created_at`, `updated_at`
FROM `mcp_servers`;
--> statement-breakpoint
INSERT INTO `plugin_installations` (`id`, `plugin_id`, `user_id`, `enabled`, `settings_encrypted`, `settings_hint`, `created_at`, `updated_at`)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
  `id`, `owner_id`, 1, `headers_encrypted`, `header_names`, `created_at`, `updated_at`
FROM `mcp_servers`;
