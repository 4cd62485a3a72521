/**
 * `npm run bench`: prints cairn's performance figures and same-run ratios. Never part of `npm test`.
 * Options: --seconds S (per measurement, default 2), --json (also print one JSON object with every figure).
 */
import '../src/cli/shims.js';
import { cpus } from 'node:os';
import { runCryptoBench } from './crypto.bench.js';
import { runScriptVerifierBench } from './scriptVerifier.bench.js';
import { runBlockConnectBench } from './blockConnect.bench.js';
import { runMinerBench } from './miner.bench.js';
import { runRestTxBench } from './restTx.bench.js';

const args = process.argv.slice(2);
const secondsArg = args.indexOf('--seconds');
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2;
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error('error: --seconds must be a positive number');
  process.exit(1);
}

console.log(`cairn bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${seconds} s per figure`);
const results = {
  crypto: runCryptoBench(seconds),
  scriptVerifier: await runScriptVerifierBench(seconds),
  blockConnect: await runBlockConnectBench(seconds),
  miner: await runMinerBench(seconds),
  restTx: await runRestTxBench(seconds),
};
if (args.includes('--json')) console.log(JSON.stringify(results));
