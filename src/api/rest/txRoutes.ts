import { Type } from 'typebox';
import { computeMerkleBranch } from '../../consensus/merkle.js';
import { VerifyError } from '../../consensus/verifyError.js';
import { DecodeError } from '../../primitives/decodeError.js';
import { bytesEqual, bytesToHex, hashToHex, hexToBytes } from '../../primitives/hex.js';
import { decodeTx, encodeTx } from '../../primitives/tx.js';
import type { Tx, Txid } from '../../primitives/types.js';
import { confirmedStatus, txToEsplora, UNCONFIRMED_STATUS } from '../esploraJson.js';
import {
  binaryResponse,
  ERROR_RESPONSES,
  EsploraMerkleProofSchema,
  EsploraOutspendSchema,
  EsploraTxSchema,
  EsploraTxStatusSchema,
  textResponse,
  type EsploraOutspend,
} from '../esploraSchemas.js';
import { broadcastTransaction, DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB, rejectToRpcError } from '../broadcastTransaction.js';
import { HttpError } from '../httpError.js';
import { parseFeeRateArg } from '../rpc/rpcArgs.js';
import { RpcError } from '../rpc/rpcError.js';
import { parseIndexParam, parseTxidParam } from '../restParams.js';
import type { ResolvedTx } from '../txLookup.js';
import { sendText, type RestApp, type RestContext } from './restContext.js';

/** Largest POST /api/tx body: a hex transaction as large as a block (4,000,000 bytes) plus slack, bytes. */
export const MAX_TX_HEX_BODY = 2 * 4_000_000 + 1024;

const TxidParams = Type.Object({ txid: Type.String({ description: 'txid, 64 hex digits (display order)' }) });
const TAGS = ['transactions'];

/** Core's RPC error codes that sendrawtransaction answers with. @see Bitcoin Core rpc/protocol.h */
const RPC_DESERIALIZATION_ERROR = -22;

/** The 400 body Esplora gives for a refused broadcast: Core's RPC error object after a fixed prefix. */
function broadcastError(code: number, message: string): HttpError {
  return new HttpError(400, `sendrawtransaction RPC error: ${JSON.stringify({ code, message })}`);
}

/**
 * The HttpError for a transaction the mempool refused: Esplora's 400 with Core's sendrawtransaction error object
 * (rejectToRpcError).
 */
export function rejectToHttpError(err: VerifyError): HttpError {
  const { code, message } = rejectToRpcError(err);
  return broadcastError(code, message);
}

/**
 * Decodes the hex body of POST /api/tx.
 * @throws HttpError 400 `sendrawtransaction RPC error: {"code":-22,"message":"TX decode failed …"}`
 */
export function decodeTxBody(body: unknown): Tx {
  const text = typeof body === 'string' ? body.trim() : Buffer.isBuffer(body) ? body.toString('latin1').trim() : undefined;
  if (text === undefined || text.length === 0) throw broadcastError(RPC_DESERIALIZATION_ERROR, 'TX decode failed: empty body');
  try {
    return decodeTx(hexToBytes(text));
  } catch (err) {
    if (err instanceof DecodeError) throw broadcastError(RPC_DESERIALIZATION_ERROR, `TX decode failed: ${err.message}`);
    throw err;
  }
}

/**
 * The `maxfeerate` query parameter of POST /api/tx: coins per kvB as sendrawtransaction's second argument (a decimal
 * string, 0 = no ceiling), in sat/kvB; the default when absent.
 * @throws HttpError 400 `sendrawtransaction RPC error: {"code":-3|-8,…}` with Core's ParseFeeRate messages
 */
export function parseMaxFeeRateQuery(text: string | undefined): bigint {
  if (text === undefined) return DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB;
  try {
    return parseFeeRateArg(text);
  } catch (err) {
    if (err instanceof RpcError) throw broadcastError(err.code, `maxfeerate: ${err.message}`);
    throw err;
  }
}

/**
 * Transaction routes (Esplora): GET /tx/:txid (+ /status, /hex, /raw, /outspends, /outspend/:vout, /merkle-proof) and
 * POST /tx (hex body, any content type; answers the txid as text, or 400 with Core's reject reason; `?maxfeerate=`
 * coins/kvB as sendrawtransaction's, default 0.10, 0 = any fee rate).
 */
export function registerTxRoutes(app: RestApp, ctx: RestContext): void {
  const { node, txLookup } = ctx;

  const requireTx = (txidHex: string): ResolvedTx => {
    const found = txLookup.getTx(parseTxidParam(txidHex));
    if (found === undefined) throw new HttpError(404, 'Transaction not found');
    return found;
  };
  /** The raw tx without prevouts (cheaper: /hex and /raw need no undo data for mempool txs). */
  const requireTxOnly = (txidHex: string): Tx => {
    const txid = parseTxidParam(txidHex);
    const entry = node.mempool.get(txid);
    if (entry !== undefined) return entry.tx;
    const found = txLookup.getConfirmedTx(txid);
    if (found === undefined) throw new HttpError(404, 'Transaction not found');
    return found.tx;
  };

  app.get('/api/tx/:txid', {
    schema: { tags: TAGS, summary: 'A transaction (Esplora format) with prevouts, fee and status', params: TxidParams, response: { 200: EsploraTxSchema, ...ERROR_RESPONSES } },
  }, (req) => {
    const r = requireTx(req.params.txid);
    return txToEsplora(r.tx, { params: node.params, prevouts: r.prevouts, fee: r.fee, status: r.status, txid: r.txid });
  });

  app.get('/api/tx/:txid/status', {
    schema: { tags: TAGS, summary: 'Confirmation status of a transaction', params: TxidParams, response: { 200: EsploraTxStatusSchema, ...ERROR_RESPONSES } },
  }, (req) => {
    const txid = parseTxidParam(req.params.txid);
    if (node.mempool.has(txid)) return UNCONFIRMED_STATUS;
    const location = node.chainIndex.getTxLocation(txid);
    const entry = location === undefined ? undefined : node.chain.getEntry(location.blockHash);
    if (entry === undefined) throw new HttpError(404, 'Transaction not found');
    return confirmedStatus(entry);
  });

  app.get('/api/tx/:txid/hex', {
    schema: { tags: TAGS, summary: 'The serialized transaction, hex (text)', params: TxidParams, response: { 200: textResponse('tx hex'), ...ERROR_RESPONSES } },
  }, (req, reply) => sendText(reply, bytesToHex(encodeTx(requireTxOnly(req.params.txid)))));

  app.get('/api/tx/:txid/raw', {
    schema: { tags: TAGS, summary: 'The serialized transaction (binary)', params: TxidParams, response: { 200: binaryResponse('tx bytes'), ...ERROR_RESPONSES } },
  }, (req, reply) => reply.type('application/octet-stream').send(Buffer.from(encodeTx(requireTxOnly(req.params.txid)))));

  const outspendOf = (txid: Txid, index: number): EsploraOutspend => {
    const outpoint = { txid, index };
    const spender = node.mempool.getSpender(outpoint);
    if (spender !== undefined) {
      const vin = spender.tx.inputs.findIndex((i) => i.prevout.index === index && bytesEqual(i.prevout.txid, txid));
      return { spent: true, txid: spender.txidHex, vin, status: UNCONFIRMED_STATUS };
    }
    const spend = node.chainIndex.getSpend(outpoint);
    const entry = spend === undefined ? undefined : node.chain.getEntryByHeight(spend.height);
    if (spend === undefined || entry === undefined) return { spent: false };
    return { spent: true, txid: hashToHex(spend.spendingTxid), vin: spend.inputIndex, status: confirmedStatus(entry) };
  };

  app.get('/api/tx/:txid/outspends', {
    schema: { tags: TAGS, summary: 'Spending status of every output', params: TxidParams, response: { 200: Type.Array(EsploraOutspendSchema), ...ERROR_RESPONSES } },
  }, (req) => {
    const tx = requireTxOnly(req.params.txid);
    const txid = parseTxidParam(req.params.txid);
    return tx.outputs.map((_, i) => outspendOf(txid, i));
  });

  app.get('/api/tx/:txid/outspend/:vout', {
    schema: {
      tags: TAGS,
      summary: 'Spending status of one output',
      params: Type.Object({ txid: Type.String(), vout: Type.String({ description: 'output index' }) }),
      response: { 200: EsploraOutspendSchema, ...ERROR_RESPONSES },
    },
  }, (req) => {
    const tx = requireTxOnly(req.params.txid);
    const vout = parseIndexParam(req.params.vout, 'vout');
    if (vout >= tx.outputs.length) throw new HttpError(404, 'Output not found');
    return outspendOf(parseTxidParam(req.params.txid), vout);
  });

  app.get('/api/tx/:txid/merkle-proof', {
    schema: {
      tags: TAGS,
      summary: 'Merkle inclusion proof of a confirmed transaction (Electrum format: sibling hashes from the leaf up)',
      params: TxidParams,
      response: { 200: EsploraMerkleProofSchema, ...ERROR_RESPONSES },
    },
  }, (req) => {
    const txid = parseTxidParam(req.params.txid);
    const location = node.chainIndex.getTxLocation(txid);
    const entry = location === undefined ? undefined : node.chain.getEntry(location.blockHash);
    const data = entry === undefined ? undefined : txLookup.readBlockData(entry);
    if (location === undefined || data === undefined) {
      throw new HttpError(404, node.mempool.has(txid) ? 'Transaction is not confirmed' : 'Transaction not found');
    }
    const merkle = computeMerkleBranch(data.txids, location.position).map(hashToHex);
    return { block_height: location.height, merkle, pos: location.position };
  });

  app.post('/api/tx', {
    bodyLimit: MAX_TX_HEX_BODY,
    schema: {
      tags: TAGS,
      summary: 'Broadcast a transaction: body = raw tx hex (text/plain); answers its txid',
      description:
        'As Core\'s sendrawtransaction: a tx paying more than `maxfeerate` coins per kvB (default 0.10, 0 = no ceiling) ' +
        'is refused with code -25 "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)".',
      consumes: ['text/plain'],
      querystring: Type.Object({
        maxfeerate: Type.Optional(Type.String({ description: 'fee-rate ceiling in coins/kvB (default 0.10; 0 = none)', maxLength: 32 })),
      }),
      body: Type.String({ description: 'raw transaction, hex' }),
      response: { 200: textResponse('txid'), 400: textResponse('"sendrawtransaction RPC error: {code, message}" with the reject reason'), 429: ERROR_RESPONSES[429] },
    },
  }, async (req, reply) => {
    const maxFeeRate = parseMaxFeeRateQuery(req.query.maxfeerate);
    const tx = decodeTxBody(req.body);
    try {
      return sendText(reply, hashToHex(await broadcastTransaction(node, tx, maxFeeRate)));
    } catch (err) {
      if (err instanceof VerifyError) throw rejectToHttpError(err);
      throw err;
    }
  });
}
