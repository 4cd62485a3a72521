import { Type } from 'typebox';
import { bytesEqual, hashToHex } from '../../primitives/hex.js';
import type { AddressHistoryRecord, AddressStats } from '../../interfaces/chainTypes.js';
import { confirmedStatus, satsToNumber, txToEsplora, UNCONFIRMED_STATUS } from '../esploraJson.js';
import {
  ERROR_RESPONSES,
  EsploraAddressSchema,
  EsploraTxSchema,
  EsploraUtxoSchema,
  type EsploraAddressStats,
  type EsploraTx,
  type EsploraUtxo,
} from '../esploraSchemas.js';
import { HttpError } from '../httpError.js';
import { parseAddressParam, parseTxidParam } from '../restParams.js';
import type { ResolvedTx } from '../txLookup.js';
import type { RestApp, RestContext } from './restContext.js';

/** Esplora's page of confirmed history (/address/:address/txs and /txs/chain). */
export const CHAIN_TXS_PAGE = 25;
/** Esplora's cap on mempool history in /address/:address/txs and /txs/mempool. */
export const MEMPOOL_TXS_LIMIT = 50;
/**
 * Default cap on the confirmed unspent outputs /address/:address/utxo lists: electrs's `--utxos-limit` default (500).
 * An address with more is refused with 400 (Esplora has no pagination for /utxo).
 */
export const DEFAULT_UTXOS_LIMIT = 500;
/**
 * Default cap on test networks (regtest, devnet, testnet): a miner's, faucet's or the bridge's address there collects
 * every coinbase, and cairn's own wallet and the exchange's reserves list that address's UTXOs; 500 would break them
 * after a few hundred blocks, while a public main node keeps electrs's bound.
 */
export const TEST_NETWORK_UTXOS_LIMIT = 100_000;

/** The /utxo cap a node of `networkName` uses when no --utxos-limit is given: 500 on main, 100,000 elsewhere. */
export function defaultUtxosLimit(networkName: string): number {
  return networkName === 'main' ? DEFAULT_UTXOS_LIMIT : TEST_NETWORK_UTXOS_LIMIT;
}

/** Options of registerAddressRoutes. */
export interface AddressRoutesOptions {
  /** Most confirmed unspent outputs /utxo lists for one address; more answers 400. Default DEFAULT_UTXOS_LIMIT. */
  readonly utxosLimit?: number;
}

/** The 400 reason of /utxo for an address over the limit: electrs's text, which Esplora clients recognise. */
export function tooManyUtxosMessage(limit: number): string {
  return `Too many unspent transaction outputs (>${limit}). Contact support to raise limits.`;
}

const AddressParams = Type.Object({ address: Type.String({ description: "segwit address of the node's network" }) });
const TAGS = ['addresses'];

function emptyStats(): EsploraAddressStats {
  return { funded_txo_count: 0, funded_txo_sum: 0, spent_txo_count: 0, spent_txo_sum: 0, tx_count: 0 };
}

/** Esplora's chain_stats object from the index's totals. */
function chainStatsJson(stats: AddressStats): EsploraAddressStats {
  return {
    funded_txo_count: stats.fundedTxoCount,
    funded_txo_sum: satsToNumber(stats.fundedTxoSum),
    spent_txo_count: stats.spentTxoCount,
    spent_txo_sum: satsToNumber(stats.spentTxoSum),
    tx_count: stats.txCount,
  };
}

/**
 * Address routes (Esplora): /address/:address (chain_stats, mempool_stats), /address/:address/txs (up to 50 mempool
 * txs, newest first, then the 25 newest confirmed), /txs/chain[/:last_seen_txid] (25 confirmed per page, newest
 * first, after last_seen_txid), /txs/mempool (up to 50), /utxo (confirmed and mempool outputs not spent in the
 * mempool; at most `utxosLimit` confirmed ones). Addresses are the node network's segwit addresses.
 * PERF: the summary reads one address_stats row plus the address's mempool txs; /utxo reads at most utxosLimit + 1
 * rows of the UTXO table's (script_key, height) index; history pages are one range scan each.
 */
export function registerAddressRoutes(app: RestApp, ctx: RestContext, options: AddressRoutesOptions = {}): void {
  const { node, txLookup, tracker } = ctx;
  const utxosLimit = options.utxosLimit ?? DEFAULT_UTXOS_LIMIT;

  const toJson = (r: ResolvedTx): EsploraTx =>
    txToEsplora(r.tx, { params: node.params, prevouts: r.prevouts, fee: r.fee, status: r.status, txid: r.txid });

  const confirmedOf = (record: AddressHistoryRecord): ResolvedTx => {
    const entry = node.chain.getEntryByHeight(record.height);
    const data = entry === undefined ? undefined : txLookup.readBlockData(entry);
    const resolved = data === undefined ? undefined : txLookup.resolveInBlock(data, record.position);
    // The index and the chain are read at different instants; a reorg in between is reported, not hidden.
    if (resolved === undefined || !bytesEqual(data!.txids[record.position]!, record.txid)) {
      throw new HttpError(503, 'Chain changed while reading the history, retry');
    }
    return resolved;
  };
  const mempoolTxs = (script: Uint8Array): ResolvedTx[] =>
    tracker
      .txidsForScript(script)
      .slice(0, MEMPOOL_TXS_LIMIT)
      .map((txid) => txLookup.getMempoolTx(txid))
      .filter((r): r is ResolvedTx => r !== undefined);

  app.get('/api/address/:address', {
    schema: { tags: TAGS, summary: 'Funded/spent output counts and sums of an address, on chain and in the mempool', params: AddressParams, response: { 200: EsploraAddressSchema, ...ERROR_RESPONSES } },
  }, (req) => {
    const script = parseAddressParam(req.params.address, node.params);
    const chainStats = chainStatsJson(node.chainIndex.getAddressStats(script));
    const mempoolStats = emptyStats();
    for (const txid of tracker.txidsForScript(script)) {
      const r = txLookup.getMempoolTx(txid);
      if (r === undefined) continue;
      mempoolStats.tx_count++;
      for (const output of r.tx.outputs) {
        if (!bytesEqual(output.scriptPubKey, script)) continue;
        mempoolStats.funded_txo_count++;
        mempoolStats.funded_txo_sum += satsToNumber(output.value);
      }
      for (const prevout of r.prevouts) {
        if (prevout === undefined || !bytesEqual(prevout.scriptPubKey, script)) continue;
        mempoolStats.spent_txo_count++;
        mempoolStats.spent_txo_sum += satsToNumber(prevout.value);
      }
    }
    return { address: req.params.address, chain_stats: chainStats, mempool_stats: mempoolStats };
  });

  app.get('/api/address/:address/txs', {
    schema: { tags: TAGS, summary: `Up to ${MEMPOOL_TXS_LIMIT} mempool txs (newest first), then the ${CHAIN_TXS_PAGE} newest confirmed txs`, params: AddressParams, response: { 200: Type.Array(EsploraTxSchema), ...ERROR_RESPONSES } },
  }, (req) => {
    const script = parseAddressParam(req.params.address, node.params);
    const confirmed = node.chainIndex.getAddressHistory(script, { limit: CHAIN_TXS_PAGE }).map(confirmedOf);
    return [...mempoolTxs(script), ...confirmed].map(toJson);
  });

  const chainPage = (address: string, lastSeen?: string): EsploraTx[] => {
    const script = parseAddressParam(address, node.params);
    let before: { height: number; position: number } | undefined;
    if (lastSeen !== undefined) {
      const location = node.chainIndex.getTxLocation(parseTxidParam(lastSeen));
      // electrs walks the history until it meets last_seen_txid: an unknown one yields an empty page.
      if (location === undefined) return [];
      before = { height: location.height, position: location.position };
    }
    return node.chainIndex
      .getAddressHistory(script, { limit: CHAIN_TXS_PAGE, ...(before ? { before } : {}) })
      .map(confirmedOf)
      .map(toJson);
  };
  app.get('/api/address/:address/txs/chain', {
    schema: { tags: TAGS, summary: `The ${CHAIN_TXS_PAGE} newest confirmed txs`, params: AddressParams, response: { 200: Type.Array(EsploraTxSchema), ...ERROR_RESPONSES } },
  }, (req) => chainPage(req.params.address));
  app.get('/api/address/:address/txs/chain/:last_seen_txid', {
    schema: {
      tags: TAGS,
      summary: `The next ${CHAIN_TXS_PAGE} confirmed txs after last_seen_txid (newest first)`,
      params: Type.Object({ address: Type.String(), last_seen_txid: Type.String({ description: 'the last txid of the previous page' }) }),
      response: { 200: Type.Array(EsploraTxSchema), ...ERROR_RESPONSES },
    },
  }, (req) => chainPage(req.params.address, req.params.last_seen_txid));

  app.get('/api/address/:address/txs/mempool', {
    schema: { tags: TAGS, summary: `Up to ${MEMPOOL_TXS_LIMIT} mempool txs, newest first`, params: AddressParams, response: { 200: Type.Array(EsploraTxSchema), ...ERROR_RESPONSES } },
  }, (req) => mempoolTxs(parseAddressParam(req.params.address, node.params)).map(toJson));

  app.get('/api/address/:address/utxo', {
    schema: { tags: TAGS, summary: `Unspent outputs (confirmed and mempool), less those spent in the mempool; 400 for an address with more confirmed ones than the node's limit (default ${DEFAULT_UTXOS_LIMIT})`, params: AddressParams, response: { 200: Type.Array(EsploraUtxoSchema), ...ERROR_RESPONSES } },
  }, (req) => {
    const script = parseAddressParam(req.params.address, node.params);
    const confirmed = node.chainIndex.getAddressUtxos(script, utxosLimit + 1);
    if (confirmed.length > utxosLimit) throw new HttpError(400, tooManyUtxosMessage(utxosLimit));
    const out: EsploraUtxo[] = [];
    for (const { outpoint, coin } of confirmed) {
      if (node.mempool.getSpender(outpoint) !== undefined) continue;
      const entry = node.chain.getEntryByHeight(coin.height);
      out.push({
        txid: hashToHex(outpoint.txid),
        vout: outpoint.index,
        status: entry === undefined ? UNCONFIRMED_STATUS : confirmedStatus(entry),
        value: satsToNumber(coin.output.value),
      });
    }
    for (const txid of tracker.txidsForScript(script)) {
      const entry = node.mempool.get(txid);
      if (entry === undefined) continue;
      entry.tx.outputs.forEach((output, index) => {
        if (!bytesEqual(output.scriptPubKey, script)) return;
        if (node.mempool.getSpender({ txid: entry.txid, index }) !== undefined) return;
        out.push({ txid: entry.txidHex, vout: index, status: UNCONFIRMED_STATUS, value: satsToNumber(output.value) });
      });
    }
    return out;
  });
}
