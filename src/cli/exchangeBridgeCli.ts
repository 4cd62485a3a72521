/**
 * The chain bridge in `cairn exchange`: options of `exchange run` that start it next to the engine, the JSON lines it
 * answers on standard input (`{"id","bridge":"depositAddress"|"deposits"|"withdraw"|"withdrawals"|"reserves",…}`), and
 * the reserves section of `exchange audit`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_STORE_FILE, BridgeStore } from '../exchange/bridge/bridgeStore.js';
import {
  BridgeRouteError,
  capitalConfigRoute,
  depositAddressRoute,
  depositHistoryRoute,
  liabilitiesProofRoute,
  withdrawHistoryRoute,
  withdrawRoute,
} from '../exchange/bridge/bridgeRoutes.js';
import { ExchangeBridge, readLiabilitiesSalt } from '../exchange/bridge/exchangeBridge.js';
import { buildLiabilitiesTree, verifyLiabilitiesProof, type LiabilitiesProof } from '../exchange/bridge/liabilitiesProof.js';
import type { ExchangeEngine } from '../exchange/engine.js';
import { computeReserves, type ReservesReport } from '../exchange/bridge/reserves.js';
import type { ExchangeService } from '../exchange/exchangeService.js';
import type { Logger } from '../logging/logger.js';
import { parseCoins } from '../consensus/amount.js';
import { getNetworkParams } from '../params/networks.js';
import { EsploraClient } from '../wallet/nodeClient.js';
import { CliError } from './input.js';

/** Flags of `exchange run` for the bridge. */
export interface BridgeFlags {
  nodeUrl?: string;
  confirmations?: string;
  withdrawalFee?: string;
  coldXpub?: string;
  hotLimit?: string;
}

/** The node URL flag checked: an http(s) URL of an Esplora API (with its /api prefix). */
export function checkNodeUrl(url: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new CliError(`--node-url must be an http(s) URL of the node's Esplora API, e.g. http://127.0.0.1:8730/api; got '${url}'`);
  return url;
}

/**
 * Opens and starts the bridge when --node-url is given (undefined otherwise).
 * @throws CliError for bad flags or when the bridge cannot open its store
 */
export function startBridge(flags: BridgeFlags, network: string, datadir: string, service: ExchangeService, logger: Logger): ExchangeBridge | undefined {
  if (flags.nodeUrl === undefined) return undefined;
  const nodeUrl = checkNodeUrl(flags.nodeUrl);
  let confirmations: number | undefined;
  if (flags.confirmations !== undefined) {
    if (!/^\d{1,4}$/.test(flags.confirmations) || Number(flags.confirmations) < 1) throw new CliError(`--confirmations must be an integer ≥ 1, got '${flags.confirmations}'`);
    confirmations = Number(flags.confirmations);
  }
  let withdrawalFeeSats: bigint | undefined;
  if (flags.withdrawalFee !== undefined) {
    if (!/^\d{1,15}$/.test(flags.withdrawalFee)) throw new CliError(`--withdrawal-fee must be an integer number of sats, got '${flags.withdrawalFee}'`);
    withdrawalFeeSats = BigInt(flags.withdrawalFee);
  }
  if ((flags.coldXpub === undefined) !== (flags.hotLimit === undefined)) throw new CliError('--cold-xpub and --hot-limit go together');
  let hotWalletLimitSats: bigint | undefined;
  if (flags.hotLimit !== undefined) {
    try {
      hotWalletLimitSats = parseCoins(flags.hotLimit);
    } catch (err) {
      throw new CliError(`--hot-limit: ${(err as Error).message}`);
    }
  }
  let bridge: ExchangeBridge;
  try {
    bridge = ExchangeBridge.open(
      {
        params: getNetworkParams(network),
        datadir,
        nodeUrl,
        ...(confirmations !== undefined ? { confirmations } : {}),
        ...(withdrawalFeeSats !== undefined ? { withdrawalFeeSats } : {}),
        ...(flags.coldXpub !== undefined && hotWalletLimitSats !== undefined ? { coldXpub: flags.coldXpub, hotWalletLimitSats } : {}),
      },
      { submit: (c) => service.submit(c), logger },
    );
  } catch (err) {
    throw new CliError(`cannot open the chain bridge in ${datadir}: ${(err as Error).message}`);
  }
  bridge.start();
  return bridge;
}

function userOf(msg: Record<string, unknown>): number {
  const u = msg['userId'];
  if (typeof u !== 'number' || !Number.isSafeInteger(u) || u < 1) throw new BridgeRouteError(400, -1102, "Mandatory parameter 'userId' was not sent, was empty/null, or malformed.");
  return u;
}

/** Answers one `{"bridge":…}` input line: the route's answer, or `{error:{code,message}}`. Never throws. */
export async function answerBridgeLine(
  bridge: ExchangeBridge | undefined,
  msg: Record<string, unknown>,
  ctx: { service: ExchangeService; datadir: string; network: string },
): Promise<Record<string, unknown>> {
  if (bridge === undefined) return { error: { code: 'NO_BRIDGE', message: 'the chain bridge is not running: start with --node-url' } };
  try {
    switch (msg['bridge']) {
      case 'config':
        return { result: capitalConfigRoute(bridge, ctx.network) };
      case 'liabilitiesProof':
        return { result: liabilitiesProofRoute(ctx.service.getHoldings('CRN'), readLiabilitiesSalt(ctx.datadir), userOf(msg)) };
      case 'depositAddress':
        return { result: await depositAddressRoute(bridge, userOf(msg)) };
      case 'deposits':
        return { result: depositHistoryRoute(bridge, userOf(msg)) };
      case 'withdraw':
        return { result: await withdrawRoute(bridge, userOf(msg), msg) };
      case 'withdrawals':
        return { result: withdrawHistoryRoute(bridge, userOf(msg)) };
      default:
        return { error: { code: 'BAD_QUERY', message: 'bridge must be depositAddress, deposits, withdraw, withdrawals, config or liabilitiesProof' } };
    }
  } catch (err) {
    if (err instanceof BridgeRouteError) return { error: { code: err.code, message: err.message } };
    return { error: { code: 'FAILED', message: (err as Error).message } };
  }
}

/**
 * The reserves of the exchange in `datadir` against `heldSats` (Σ accounts' CRN), from the node at `nodeUrl`;
 * undefined when the data dir has no bridge store (no deposit address was ever given).
 * @throws CliError when the node cannot be read
 */
export async function auditReserves(datadir: string, nodeUrl: string, heldSats: bigint): Promise<ReservesReport | undefined> {
  const path = join(datadir, BRIDGE_STORE_FILE);
  if (!existsSync(path)) return undefined;
  const store = BridgeStore.open(path, { readOnly: true });
  try {
    return await computeReserves(store, new EsploraClient({ baseUrl: checkNodeUrl(nodeUrl) }), heldSats);
  } catch (err) {
    throw new CliError(`cannot read the exchange's coins from ${nodeUrl}: ${(err as Error).message}`);
  } finally {
    store.close();
  }
}

/**
 * The liabilities tree of an exchange state read from its data dir: the root, and the proof of `userId` when given.
 * @throws CliError when the data dir has no bridge seed (the salt) or the user holds no CRN
 */
export function liabilitiesOf(engine: ExchangeEngine, datadir: string, userId?: number): { root: { hash: string; sum: string; seq: number }; proof?: LiabilitiesProof } {
  let salt: Uint8Array;
  try {
    salt = readLiabilitiesSalt(datadir);
  } catch (err) {
    throw new CliError(`no chain bridge in ${datadir} (its seed salts the user tags): ${(err as Error).message}`);
  }
  const tree = buildLiabilitiesTree(engine.getHoldings('CRN'), salt, { seq: engine.seq, asset: 'CRN' });
  const root = { hash: Buffer.from(tree.root.hash).toString('hex'), sum: tree.root.sumSats.toString(), seq: engine.seq };
  if (userId === undefined) return { root };
  const proof = tree.proofFor(userId);
  if (proof === undefined) throw new CliError(`user ${userId} holds no CRN: no leaf in the liabilities tree`);
  return { root, proof };
}

/** Verifies a proof document's text: undefined when it holds, otherwise why not. */
export function verifyProofText(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  return verifyLiabilitiesProof(doc);
}
