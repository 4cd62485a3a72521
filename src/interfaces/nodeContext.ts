import type { BlockTemplateSource } from './blockTemplate.js';
import type { ChainIndexReader } from './chainIndexReader.js';
import type { ChainReader } from './chainReader.js';
import type { ProcessBlockResult } from './chainTypes.js';
import type { MempoolReader } from './mempoolReader.js';
import type { AcceptTransactionOptions, MempoolAcceptResult } from './mempoolTypes.js';
import type { MiningInfoSource } from './miningInfo.js';
import type { NetworkInfoSource } from './networkInfo.js';
import type { ChainParams } from '../params/chainParams.js';
import type { Block, Tx } from '../primitives/types.js';

/**
 * Everything the node's interfaces (JSON-RPC, Esplora REST, websocket, metrics) need from a running node, as narrow
 * read-only views plus the calls that change it: blocks and transactions go through submitBlock/submitTransaction,
 * the same validation path as the network's. Built once by the composition root (node/runNode) from the node's
 * services; nothing patches it afterwards.
 * @see Bitcoin Core interfaces/node.h (interfaces::Node), interfaces/chain.h
 */
export interface NodeContext {
  readonly params: ChainParams;
  /** The chain: tip, block index, blocks, UTXO set, events. */
  readonly chain: ChainReader;
  /** The mempool: entries, spends, packages, fee estimates, events. */
  readonly mempool: MempoolReader;
  /** The Esplora indexes: tx locations, spends, address histories and UTXOs. */
  readonly chainIndex: ChainIndexReader;
  /** Block templates for getblocktemplate and generatetoaddress. */
  readonly blockTemplates: BlockTemplateSource;
  /** Unix time the node started, seconds (for `uptime`). */
  readonly startedAtSec: number;
  /** Peers and the network admin commands (reports no peers when the node runs without p2p). */
  readonly network: NetworkInfoSource;
  /** The node's own miners (hash rate, on/off). */
  readonly mining: MiningInfoSource;
  /** Validates a block and makes it the tip when it has the most work (Chain.processBlock). */
  submitBlock(block: Block): Promise<ProcessBlockResult>;
  /** Offers a tx to the mempool (options: testOnly, the client's fee-rate ceiling). @throws VerifyError */
  submitTransaction(tx: Tx, options?: AcceptTransactionOptions): Promise<MempoolAcceptResult>;
  /**
   * Finds a nonce for the block (generatetoaddress): the node's miner pool on real-PoW networks, else the CPU solver.
   * Resolves with the solved block, or null when the nonce space ran out (the caller changes time or extra nonce).
   */
  solveBlock(block: Block): Promise<Block | null>;
  /** Current time, seconds since the epoch (the node's clock). */
  nowSec(): number;
  /** Asks the node process to shut down cleanly (the `stop` RPC). */
  requestShutdown(): void;
}
