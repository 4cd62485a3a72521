import type { MiningNode } from './miningNode.js';
import { bytesEqual } from '../primitives/hex.js';
import type { BlockTemplate } from '../interfaces/blockTemplate.js';

/** Default shortest time between two mempool-driven template refreshes, ms. */
export const DEFAULT_TEMPLATE_REFRESH_MS = 2_000;

/** Why new work is handed out: the first template, a new tip (old work is stale), or a mempool with higher fees. */
export type WorkReason = 'start' | 'tip' | 'mempool';

/** A new template for miners; `cleanJobs` is true when earlier work builds on a block that is no longer the tip. */
export interface WorkUpdate {
  readonly template: BlockTemplate;
  readonly cleanJobs: boolean;
  readonly reason: WorkReason;
}

/** Options of TemplateWatcher. */
export interface TemplateWatcherOptions {
  /** Shortest time between two mempool-driven refreshes, ms (default 2,000). */
  readonly refreshIntervalMs?: number;
}

/** The part of the node a TemplateWatcher follows. */
export type TemplateWatcherNode = Pick<MiningNode, 'chain' | 'mempool' | 'blockTemplates'>;

/**
 * Keeps miners' work current: a new template on every new tip (clean: earlier jobs are stale), and, when
 * transactions enter the mempool, at most one refresh per `refreshIntervalMs` that is handed out only if its fees
 * beat the current template's on the same parent (clean = false: earlier jobs stay valid).
 * @see Bitcoin Core rpc/mining.cpp getblocktemplate (a new template when the tip changed or, after 5 s, the mempool)
 */
export class TemplateWatcher {
  private readonly refreshIntervalMs: number;
  private currentTemplate: BlockTemplate | undefined;
  private listener: ((update: WorkUpdate) => void) | undefined;
  private unsubscribe: (() => void)[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;

  constructor(
    options: TemplateWatcherOptions,
    private readonly node: TemplateWatcherNode,
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_TEMPLATE_REFRESH_MS;
  }

  /** The template handed out last (undefined before start). */
  get current(): BlockTemplate | undefined {
    return this.currentTemplate;
  }

  /**
   * Follows the chain and the mempool, calling `listener` with each new work; hands out the first template at once
   * (reason 'start', clean).
   */
  start(listener: (update: WorkUpdate) => void): void {
    this.stop();
    this.listener = listener;
    this.unsubscribe = [
      this.node.chain.on('tipChanged', () => this.emit(this.node.blockTemplates.createTemplate(), true, 'tip')),
      this.node.mempool.on('added', () => this.scheduleMempoolRefresh()),
    ];
    this.emit(this.node.blockTemplates.createTemplate(), true, 'start');
  }

  /** Stops following the node (idempotent). */
  stop(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.listener = undefined;
  }

  private emit(template: BlockTemplate, cleanJobs: boolean, reason: WorkReason): void {
    this.currentTemplate = template;
    this.listener?.({ template, cleanJobs, reason });
  }

  private scheduleMempoolRefresh(): void {
    if (this.refreshTimer !== undefined || this.listener === undefined) return;
    const delayMs = Math.max(0, this.lastRefreshMs + this.refreshIntervalMs - performance.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.lastRefreshMs = performance.now();
      const template = this.node.blockTemplates.createTemplate();
      const current = this.currentTemplate;
      if (current === undefined || !bytesEqual(template.prevBlock, current.prevBlock)) return;
      if (template.totalFees > current.totalFees) this.emit(template, false, 'mempool');
    }, delayMs);
    this.refreshTimer.unref();
  }
}
