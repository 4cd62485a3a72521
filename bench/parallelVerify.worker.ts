/**
 * Worker of the block connect bench's all-cores pass: holds its share of the bench's spends (serialized with witness,
 * with their prevouts) and, on each 'run' message, checks every input with consensus verifyInput (one SighashCache
 * per tx, as the single-core pass does), then answers its wall time in ms. Nothing else: no chain, no store, no pool.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TxOut } from '../src/primitives/types.js';
import { importShipped } from './shipped.js';

// The compiled verification a node's pool workers run (see shipped.ts).
const { SighashCache } = await importShipped<typeof import('../src/consensus/sighash.js')>('consensus/sighash.js');
const { verifyInput } = await importShipped<typeof import('../src/consensus/verifyInput.js')>('consensus/verifyInput.js');
const { decodeTx } = await importShipped<typeof import('../src/primitives/tx.js')>('primitives/tx.js');

/** One spend as the main thread sends it: the tx's bytes, and each prevout's value (decimal string) and script. */
export interface SerializedSpend {
  readonly tx: Uint8Array;
  readonly prevouts: readonly { readonly value: string; readonly scriptPubKey: Uint8Array }[];
}

const spends = (workerData as readonly SerializedSpend[]).map((s) => ({
  tx: decodeTx(s.tx),
  prevouts: s.prevouts.map((p): TxOut => ({ value: BigInt(p.value), scriptPubKey: p.scriptPubKey })),
}));

parentPort!.on('message', () => {
  const start = performance.now();
  for (const s of spends) {
    const cache = new SighashCache(s.tx, s.prevouts);
    for (let i = 0; i < s.tx.inputs.length; i++) {
      if (!verifyInput(s.tx, i, s.prevouts, cache).valid) throw new Error('parallel verify bench: a spend does not verify');
    }
  }
  parentPort!.postMessage(performance.now() - start);
});
