import { Worker, type WorkerOptions } from 'node:worker_threads';

/** How to start a worker: a script URL, or (for TypeScript sources) an eval'd bootstrap that loads tsx first. */
export interface WorkerScript {
  readonly script: URL | string;
  readonly eval: boolean;
}

/**
 * The URL of a worker module that sits beside `importerUrl` (pass `import.meta.url`), as `<baseName>.ts` when the
 * importer runs from the TypeScript sources (tsx) and `<baseName>.js` when it runs from the compiled dist.
 */
export function siblingWorkerUrl(importerUrl: string, baseName: string): URL {
  return new URL(`./${baseName}${importerUrl.endsWith('.ts') ? '.ts' : '.js'}`, importerUrl);
}

/**
 * How to start the worker module at `url`: a `.js` module directly; a `.ts` module through a bootstrap that registers
 * tsx's loader in the worker first, since Node 20 does not carry the parent's tsx hooks into workers and tsx's
 * `--import tsx` entry registers them only on the main thread ("Unknown file extension .ts"). tsx is resolved from
 * this file, so the cwd does not matter. The same approach as src/chain/workerPoolScriptVerifier.ts.
 */
export function workerScript(url: URL): WorkerScript {
  if (!url.pathname.endsWith('.ts')) return { script: url, eval: false };
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return { script: bootstrap, eval: true };
}

/**
 * Starts a worker thread running the module at `url` (`.ts` under tsx or `.js` from dist; see workerScript).
 * execArgv defaults to none: inheriting the parent's flags (--inspect, --test, --import ...) would misbehave in a
 * worker.
 */
export function spawnWorker(url: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const { script, eval: isEval } = workerScript(url);
  return new Worker(script, { execArgv: [], ...options, eval: isEval });
}
