// npm run deploy — provisions what the production environment of wrangler.toml names and does
// not exist yet (D1 database, Vectorize index with its metadata indexes, queues, R2 buckets),
// applies the D1 migrations remotely, checks the secrets, and deploys the two workers: first
// tiangong-runtime (workers/runtime: the QuickJS sandbox and pdf.js), which the API worker's
// RUNTIME service binding names and which must exist before it, then tiangong (the API).
//
//   npm run deploy            do it (needs `wrangler login` or CLOUDFLARE_API_TOKEN)
//   npm run deploy -- --plan  print what would be run, touching nothing (works offline)
//
// Everything is read from wrangler.toml's [env.production], so the script stays true as modules
// add bindings. Re-running it is safe: existing resources are left as they are.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { unstable_readConfig } from 'wrangler';

const ENV = 'production';
const PLAN = process.argv.includes('--plan');
const PLACEHOLDER_DB_ID = '00000000-0000-0000-0000-000000000000';

/** Vectorize indexes: dimensions and metric of the embedding model, and the metadata filters used. */
const VECTORIZE = {
  dimensions: 1024, // @cf/baai/bge-m3
  metric: 'cosine',
  // Vectors are partitioned by knowledge base with Vectorize namespaces; documents are filtered on metadata.
  metadataIndexes: [['document_id', 'string']],
};
const REQUIRED_SECRETS = ['JWT_SECRET', 'ENCRYPTION_KEY'];
const OPTIONAL_SECRETS = ['FEISHU_APP_ID', 'FEISHU_APP_SECRET', 'FEISHU_VERIFICATION_TOKEN', 'FEISHU_ENCRYPT_KEY'];

const RUNTIME_CONFIG = 'workers/runtime/wrangler.toml';
const config = unstable_readConfig({ config: 'wrangler.toml', env: ENV });
const runtimeConfig = unstable_readConfig({ config: RUNTIME_CONFIG, env: ENV });
// The service binding must name the runtime worker this script deploys.
for (const s of config.services ?? []) {
  if (s.binding === 'RUNTIME' && s.service !== runtimeConfig.name) {
    console.error(`wrangler.toml [env.${ENV}]: RUNTIME names "${s.service}" but ${RUNTIME_CONFIG} deploys "${runtimeConfig.name}"`);
    process.exit(1);
  }
}

function wrangler(args, { json = false } = {}) {
  console.log(`$ wrangler ${args.join(' ')}`);
  if (PLAN) return json ? [] : '';
  const out = execFileSync('wrangler', args, { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] });
  if (!json) {
    process.stdout.write(out);
    return out;
  }
  return JSON.parse(out.slice(out.search(/[[{]/)));
}

// 1. D1: create the database if absent and write its id into wrangler.toml.
const existingDbs = wrangler(['d1', 'list', '--json'], { json: true });
for (const db of config.d1_databases) {
  let id = existingDbs.find((d) => d.name === db.database_name)?.uuid;
  if (!id) {
    const out = wrangler(['d1', 'create', db.database_name]);
    id = out.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0];
  }
  if (id && db.database_id !== id && !PLAN) {
    const toml = readFileSync('wrangler.toml', 'utf8');
    writeFileSync('wrangler.toml', toml.replaceAll(`database_id = "${PLACEHOLDER_DB_ID}"`, `database_id = "${id}"`));
    console.log(`wrangler.toml: database_id of ${db.database_name} set to ${id} (commit this change)`);
  }
}

// 2. Vectorize: the index and its metadata indexes, before any vector is written.
const existingIndexes = wrangler(['vectorize', 'list', '--json'], { json: true });
for (const v of config.vectorize) {
  if (!existingIndexes.some((i) => i.name === v.index_name)) {
    wrangler(['vectorize', 'create', v.index_name, `--dimensions=${VECTORIZE.dimensions}`, `--metric=${VECTORIZE.metric}`]);
    for (const [property, type] of VECTORIZE.metadataIndexes) {
      wrangler(['vectorize', 'create-metadata-index', v.index_name, `--property-name=${property}`, `--type=${type}`]);
    }
  }
}

// 3. Queues (producers, consumers and their dead-letter queues) and 4. R2 buckets.
const queueNames = new Set([
  ...(config.queues.producers ?? []).map((q) => q.queue),
  ...(config.queues.consumers ?? []).flatMap((q) => [q.queue, q.dead_letter_queue].filter(Boolean)),
]);
// The lists are tables of text: compare whole names (`tiangong-audit` is not in `tiangong-audit-dlq`).
const names = (text) => new Set(String(text).split(/[^A-Za-z0-9_-]+/));
const existingQueues = names(PLAN ? '' : wrangler(['queues', 'list']));
for (const q of queueNames) if (!existingQueues.has(q)) wrangler(['queues', 'create', q]);
const existingBuckets = names(PLAN ? '' : wrangler(['r2', 'bucket', 'list']));
for (const b of config.r2_buckets) if (!existingBuckets.has(b.bucket_name)) wrangler(['r2', 'bucket', 'create', b.bucket_name]);

// 5. Migrations, remotely.
for (const db of config.d1_databases) wrangler(['d1', 'migrations', 'apply', db.binding, '--remote', '--env', ENV]);

// 6. Secrets: the worker answers 503 until the required ones are set.
const secrets = wrangler(['secret', 'list', '--env', ENV, '--format', 'json'], { json: true }).map((s) => s.name);
const missing = REQUIRED_SECRETS.filter((s) => !secrets.includes(s));
if (missing.length) {
  console.log(`\nMissing secrets — the worker refuses to serve (503) until they are set:`);
  for (const s of missing) console.log(`  openssl rand -base64 32 | wrangler secret put ${s} --env ${ENV}`);
}
const missingOptional = OPTIONAL_SECRETS.filter((s) => !secrets.includes(s));
if (missingOptional.length) console.log(`Optional (Feishu bot): ${missingOptional.map((s) => `wrangler secret put ${s} --env ${ENV}`).join('; ')}`);

// 7. Deploy: the runtime worker first (the API worker's service binding must resolve), then the API.
wrangler(['deploy', '-c', RUNTIME_CONFIG, '--env', ENV]);
wrangler(['deploy', '--env', ENV]);
