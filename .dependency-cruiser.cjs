/**
 * The house's import rules (docs/architecture.md). `npm run lint:deps` checks them in CI;
 * type-only imports count like any other.
 */
const STORE = '^src/modules/[^/]+/[^/]+/store(\\.ts$|/)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-depends-on-no-feature',
      severity: 'error',
      comment: 'src/lib is the ground floor: errors, auth types, pagination, SSE, the outbound guard.',
      from: { path: '^src/lib/' },
      to: { path: '^(src/(modules|engine|runs)/|durable-objects/)' },
    },
    {
      name: 'engine-imports-no-module',
      severity: 'error',
      comment: 'The engine is plain TypeScript with no HTTP and no module: modules and runs call it.',
      from: { path: '^src/engine/' },
      to: { path: '^(src/(modules|runs)/|durable-objects/)' },
    },
    {
      name: 'runs-import-no-module-service',
      severity: 'error',
      comment: 'The runs layer sits under the modules: it may read modules\' stores, never their routes or services.',
      from: { path: '^src/runs/' },
      // The one access policy (authorize()) is the identity area's; runs check rights with it.
      to: { path: '^src/modules/', pathNot: [STORE, '^src/modules/identity/permissions/authorize\\.ts$'] },
    },
    {
      name: 'actors-import-no-module',
      severity: 'error',
      comment: 'Actors (and their contracts) import runs/, engine/ and lib/; never a module.',
      from: { path: '^durable-objects/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'modules-import-no-actor-class',
      severity: 'error',
      comment: 'Modules reach actors only through durable-objects/contracts.ts (interfaces, constants, message types).',
      // src/index.ts exports the actor classes to the runtime: it is the one place that names them.
      from: { path: '^src/', pathNot: '^src/index\\.ts$' },
      to: { path: '^durable-objects/', pathNot: '^durable-objects/contracts\\.ts$' },
    },
    {
      name: 'schema-only-in-its-store',
      severity: 'error',
      comment: "A table's schema is read by its module's store alone (src/db/schema/<module>.ts).",
      from: { pathNot: [STORE, '^src/db/', '^src/lib/settings\\.ts$', '^drizzle\\.config\\.ts$'] },
      to: { path: '^src/db/schema/' },
    },
    {
      name: 'store-reads-its-own-schema',
      severity: 'error',
      comment: "A store composes other stores' query builders; it imports its own module's schema only.",
      from: { path: '^src/modules/[^/]+/([^/]+)/store' },
      to: { path: '^src/db/schema/', pathNot: '^src/db/schema/($1|columns)\\.ts$' },
    },
    {
      name: 'settings-store',
      severity: 'error',
      comment: 'system_settings is owned by src/lib/settings.ts (secrets are needed below every module).',
      from: { path: '^src/lib/settings\\.ts$' },
      to: { path: '^src/db/schema/', pathNot: '^src/db/schema/(settings|columns)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.build|\\.wrangler|public)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
