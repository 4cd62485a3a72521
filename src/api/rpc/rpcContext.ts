import type { Logger } from '../../logging/logger.js';
import type { NodeContext } from '../../interfaces/nodeContext.js';

/** What the last getblocktemplate served held (getmininginfo's currentblockweight / currentblocktx). */
export interface LastTemplateStats {
  /** Block weight including the coinbase reservation, weight units. */
  readonly weight: number;
  /** Transactions in the block, coinbase excluded. */
  readonly txCount: number;
}

/** A call the server is executing (getrpcinfo's active_commands). */
export interface ActiveRpcCommand {
  readonly method: string;
  /** When it started, performance.now() milliseconds. */
  readonly startedMs: number;
}

/**
 * What a JSON-RPC method handler sees: the node, the server's data dir and logger, and the little state the server
 * keeps across calls (mempool change counter, tip waits for longpolling, the last template's size, help rendering).
 */
export interface RpcContext {
  readonly node: NodeContext;
  /** Logger of module `rpc`. */
  readonly logger: Logger;
  /** The node's data directory (size_on_disk). */
  readonly datadir: string;
  /** Aborted when the server closes; long waits (longpoll) end early. */
  readonly signal: AbortSignal;
  /** Number of mempool changes (txs added or removed) since the server started (Core's mempool sequence). */
  mempoolSequence(): number;
  /** Resolves true when the chain tip changes within timeoutMs, false on timeout or when the server closes. */
  waitForTipChange(timeoutMs: number): Promise<boolean>;
  /** Stats of the last template getblocktemplate served, if any. */
  lastTemplate: LastTemplateStats | undefined;
  /** Help text: the method list by category, or one method's full help (Core's `help [command]`). */
  help(method?: string): string;
  /** The calls being executed now, oldest first, the caller's own included. */
  activeCommands(): readonly ActiveRpcCommand[];
}
