/**
 * `npm run bench`: prints cairn's performance figures and same-run ratios. Never part of `npm test`.
 * Options: --seconds S (per measurement, default 2), --json (also print one JSON object with every figure),
 * --only a,b (run only these: crypto, hashKey, scriptVerifier, blockConnect, miner, restTx, p2p, matching, exchange,
 * exchangeGateway, exchangeHistory, bridge, web, webTrade, elect, sim, simblock, crash, exchangeCrash).
 * `crash` (the crash test's long mode: 50 SIGKILL cycles, --crash-cycles N, several minutes) and `exchangeCrash` (the
 * exchange crash test with 50 kills, --crash-cycles N) run only when named in --only.
 * `npm run bench` compiles dist/ first: the benches of the matching core, the exchange and the block connect time the
 * compiled modules `cairn` runs (shipped.ts), not the TypeScript sources under tsx.
 */
import '../src/cli/shims.js';
import { cpus } from 'node:os';
import { runCryptoBench } from './crypto.bench.js';
import { runHashKeyBench } from './hashKey.bench.js';
import { runScriptVerifierBench } from './scriptVerifier.bench.js';
import { runBlockConnectBench } from './blockConnect.bench.js';
import { runMinerBench } from './miner.bench.js';
import { runRestTxBench } from './restTx.bench.js';
import { runP2pBench } from './p2p.bench.js';
import { DEFAULT_CRASH_CYCLES, runCrashSafetyBench } from './crashSafety.bench.js';
import { runMatchingBench } from './matching.bench.js';
import { DEFAULT_EXCHANGE_CRASH_CYCLES, runExchangeBench, runExchangeCrashBench } from './exchange.bench.js';
import { runExchangeGatewayBench } from './exchangeGateway.bench.js';
import { runExchangeHistoryBench } from './exchangeHistory.bench.js';
import { runWebBench } from './web.bench.js';
import { runWebTradeBench } from './webTrade.bench.js';
import { runElectBench } from './elect.bench.js';
import { runBridgeBench } from './bridge.bench.js';
import { runSimBench } from './sim.bench.js';
import { runSimBlockBench } from './simblock.bench.js';

const args = process.argv.slice(2);
const secondsArg = args.indexOf('--seconds');
const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2;
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error('error: --seconds must be a positive number');
  process.exit(1);
}

const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set((args[onlyArg + 1] ?? '').split(',')) : undefined;
const want = (name: string): boolean => only === undefined || only.has(name);
const crashCyclesArg = args.indexOf('--crash-cycles');
const crashCycles = crashCyclesArg >= 0 ? Number(args[crashCyclesArg + 1]) : DEFAULT_CRASH_CYCLES;
if (!Number.isSafeInteger(crashCycles) || crashCycles < 20) {
  console.error('error: --crash-cycles must be an integer >= 20');
  process.exit(1);
}

console.log(`cairn bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${seconds} s per figure`);
const results = {
  ...(want('crypto') ? { crypto: runCryptoBench(seconds) } : {}),
  ...(want('hashKey') ? { hashKey: runHashKeyBench(seconds) } : {}),
  ...(want('scriptVerifier') ? { scriptVerifier: await runScriptVerifierBench(seconds) } : {}),
  ...(want('blockConnect') ? { blockConnect: await runBlockConnectBench(seconds) } : {}),
  ...(want('miner') ? { miner: await runMinerBench(seconds) } : {}),
  ...(want('restTx') ? { restTx: await runRestTxBench(seconds) } : {}),
  ...(want('p2p') ? { p2p: await runP2pBench(seconds) } : {}),
  ...(want('matching') ? { matching: runMatchingBench(seconds) } : {}),
  ...(want('exchange') ? { exchange: await runExchangeBench(seconds) } : {}),
  // The exchange bench ends with the gateway case; --only exchangeGateway runs that case alone.
  ...(only?.has('exchangeGateway') === true && !only.has('exchange') ? { exchangeGateway: await runExchangeGatewayBench(seconds) } : {}),
  // The history worker's share of the gateway bench, alone: only when named.
  ...(only?.has('exchangeHistory') === true ? { exchangeHistory: await runExchangeHistoryBench() } : {}),
  ...(want('web') ? { web: await runWebBench() } : {}),
  ...(want('webTrade') ? { webTrade: await runWebTradeBench() } : {}),
  ...(want('elect') ? { elect: await runElectBench(seconds) } : {}),
  ...(want('bridge') ? { bridge: await runBridgeBench(seconds) } : {}),
  ...(want('sim') ? { sim: await runSimBench(seconds) } : {}),
  // Compiles and runs SimBlock (Java) beside cairn: only when named.
  ...(only?.has('simblock') === true ? { simblock: await runSimBlockBench() } : {}),
  // Minutes long: only when asked for by name.
  ...(only?.has('crash') === true ? { crash: await runCrashSafetyBench(crashCycles) } : {}),
  ...(only?.has('exchangeCrash') === true ? { exchangeCrash: await runExchangeCrashBench(crashCyclesArg >= 0 ? crashCycles : DEFAULT_EXCHANGE_CRASH_CYCLES) } : {}),
};
if (args.includes('--json')) console.log(JSON.stringify(results));
