/**
 * The compiled modules `cairn` runs, for the benches whose goals are about the product's speed (the matching core, the
 * exchange engine and service, the block connect). `bin/cairn.js` runs `dist/`, which `tsc -p tsconfig.build.json`
 * builds from `src/` (`npm install` and `npm run bench` build it); a bench file imports the module's types from
 * `src/` and its code from `dist/`:
 *
 *     const { OrderBook } = await importShipped<typeof import('../src/matching/orderBook.js')>('matching/orderBook.js');
 *
 * PERF: code loaded from the TypeScript sources goes through tsx, whose esbuild transform keeps function names by
 * wrapping every class and function in a `__name(…)` call (its `keepNames` option; a class gets a static block, a
 * closure a call at each creation). Measured 2026-12-06 on the exchange engine (300,000-command passes with user
 * events, three runs of each alternating, passes 3-8 of each run): 1.03-1.18M commands per CPU-second (median
 * 1.09M) from the sources under tsx against 0.79-1.34M (median 1.18M, x1.08) from dist/; on the block connect bench
 * (one run each), one-thread overhead 31.1 ms per 1,250-tx block from the sources against 26.6 ms from dist/. The
 * figures are what a user of `cairn` gets.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

let checked = false;

/**
 * Throws unless every non-test module of `src/` has a compiled `dist/` file at least as new: a bench must not time
 * code older than the sources it reports on. Checked once per process.
 * @throws Error naming the first stale or missing file and the command that rebuilds dist/.
 */
export function assertShippedFresh(): void {
  if (checked) return;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== join(SRC, 'testing')) walk(path);
        continue;
      }
      if (!entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts') || entry.name.endsWith('.d.ts')) continue;
      const compiled = join(DIST, path.slice(SRC.length).replace(/\.ts$/, '.js'));
      let compiledMs: number;
      try {
        compiledMs = statSync(compiled).mtimeMs;
      } catch {
        throw new Error(`bench: ${compiled} is missing; run \`npx tsc -p tsconfig.build.json\` (npm run bench does)`);
      }
      if (compiledMs < statSync(path).mtimeMs) {
        throw new Error(`bench: ${compiled} is older than ${path}; run \`npx tsc -p tsconfig.build.json\` (npm run bench does)`);
      }
    }
  };
  walk(SRC);
  checked = true;
}

/**
 * Imports the compiled module `dist/<modulePath>` (a path under `src/` with its `.js` extension, e.g.
 * `exchange/engine.js`), after checking dist/ is as new as the sources. The caller names the module's type, taken
 * from the source: `importShipped<typeof import('../src/exchange/engine.js')>('exchange/engine.js')`.
 * @throws Error when dist/ is missing or older than src/ (see assertShippedFresh).
 */
export async function importShipped<M>(modulePath: string): Promise<M> {
  assertShippedFresh();
  return (await import(pathToFileURL(join(DIST, modulePath)).href)) as M;
}
