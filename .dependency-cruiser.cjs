/**
 * cairn's layering rule (DESIGN.md "Layers and folders"): imports point down only, and the pure core does no I/O.
 *   L0 primitives, params, crypto   L1 consensus, policy, matching, interfaces, async   L2 services (storage … sim, logging)   L3 cli
 * `node/` is the composition root: only cli may import it. `testing/` holds test helpers: production code never imports it.
 */
const L0 = '^src/(primitives|params|crypto)/';
const L1 = '^src/(consensus|policy|matching|interfaces|async)/';
const CORE = '^src/(primitives|params|crypto|consensus|policy|matching|interfaces|async)/';
const L2 = '^src/(storage|chain|mempool|mining|p2p|api|node|wallet|walletService|devnet|supervisor|exchange|elect|sim|logging|workers)/';
const NOT_TEST = '\\.test\\.ts$';

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
