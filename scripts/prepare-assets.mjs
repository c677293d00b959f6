// Copies Swagger UI's files from node_modules into public/docs/vendor, so /docs is served by
// Workers static assets with no CDN (works offline). Runs before dev, test, bench and deploy.
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'node_modules', 'swagger-ui-dist');
const to = join(root, 'public', 'docs', 'vendor');
mkdirSync(to, { recursive: true });
for (const file of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css', 'favicon-32x32.png']) {
  cpSync(join(from, file), join(to, file));
}
