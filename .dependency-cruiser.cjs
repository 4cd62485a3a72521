/**
 * cairn's layering rule (DESIGN.md "Layers and folders"): imports point down only, and the pure core does no I/O.
 *   L0 primitives, params, crypto   L1 consensus, policy, matching, interfaces, async   L2 services (storage … sim, logging)   L3 cli
 * `node/` is the composition root: only cli may import it. `testing/` holds test helpers: production code never imports it.
 */
const L0 = '^src/(primitives|params|crypto)/';
const L1 = '^src/(consensus|policy|matching|interfaces|async)/';
const CORE = '^src/(primitives|params|crypto|consensus|policy|matching|interfaces|async)/';
const NOT_TEST = '\\.test\\.ts$';

/**
 * The allowed edges between L2 folders (services and shared infrastructure): a service may import another L2 folder
 * only when it is listed here, so the service boundaries are checked like the pure core's. Contracts between services
 * live in interfaces/ (L1), which every L2 folder may import; node/ and devnet/ are composition roots; testing/ (test
 * helpers) and cli/ (L3) may import any L2 folder. A new folder gets a line here.
 */
const L2_ALLOWED_EDGES = {
  logging: [],
  workers: [],
  supervisor: [],
  storage: [],
  chain: ['storage', 'workers', 'logging'],
  mempool: ['logging'],
  mining: ['workers', 'logging'],
  p2p: ['chain', 'mempool', 'logging'],
  api: ['mining', 'logging'],
  wallet: [],
  // storage: the one kysely database opener (storage/kyselyDb.ts), shared with the exchange's history.
  walletService: ['wallet', 'logging', 'storage'],
  // wallet: the chain bridge (src/exchange/bridge) derives deposit addresses, builds and signs batches, reads Esplora.
  exchange: ['logging', 'supervisor', 'workers', 'wallet', 'storage'],
  elect: ['logging', 'mining', 'workers'],
  sim: ['chain', 'mempool', 'mining', 'storage', 'wallet', 'logging'],
  node: ['storage', 'chain', 'mempool', 'mining', 'p2p', 'api', 'logging', 'workers'],
  devnet: ['api', 'wallet', 'walletService', 'logging', 'supervisor'],
  // The web UI's server: proxies to the services over HTTP, so it needs none of their code, only the logger.
  web: ['logging'],
};
const L2_FOLDERS = Object.keys(L2_ALLOWED_EDGES);
const L2 = `^src/(${L2_FOLDERS.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'core-no-io',
      comment:
        'primitives/params/crypto/consensus/policy/matching/interfaces/async are pure: no file system, network, processes, threads, clock, ' +
        'database or logger. Only hashing (node:crypto) and the chosen crypto libraries are allowed from outside.',
      severity: 'error',
      from: { path: CORE, pathNot: NOT_TEST },
      to: {
        dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown', 'unknown'],
        pathNot: [
          '^(node:)?crypto$',
          '^node_modules/(@noble/hashes|@noble/curves|@scure/base|@scure/bip32|@scure/bip39|tiny-secp256k1)/',
        ],
      },
    },
    {
      name: 'L0-imports-only-L0',
      severity: 'error',
      from: { path: L0, pathNot: NOT_TEST },
      to: { path: '^src/', pathNot: L0 },
    },
    {
      name: 'L1-imports-only-L0-L1',
      severity: 'error',
      from: { path: L1, pathNot: NOT_TEST },
      to: { path: '^src/', pathNot: CORE },
    },
    {
      name: 'L2-not-cli',
      comment: 'services never import the CLI',
      severity: 'error',
      from: { path: L2 },
      to: { path: '^src/cli/' },
    },
    {
      name: 'only-cli-imports-node',
      comment: 'node/ is the one composition root; services take (options, deps) and are wired there',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(node|cli)/', NOT_TEST] },
      to: { path: '^src/node/' },
    },
    {
      name: 'no-testing-in-production',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/testing/', NOT_TEST] },
      to: { path: '^src/testing/' },
    },
    ...Object.entries(L2_ALLOWED_EDGES).map(([from, allowed]) => ({
      name: `L2-edges-${from}`,
      comment: `${from}/ may import only ${allowed.length > 0 ? allowed.join(', ') : 'no other L2 folder'} among the L2 folders (L2_ALLOWED_EDGES)`,
      severity: 'error',
      from: { path: `^src/${from}/`, pathNot: NOT_TEST },
      to: { path: `^src/(${L2_FOLDERS.filter((f) => f !== from && !allowed.includes(f)).join('|')})/` },
    })),
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
