/**
 * A price level of the optimized book: an intrusive doubly-linked FIFO of resting order nodes at one price, with
 * the level's total lots. Append, unlink and head access are O(1).
 * @see nautilus_trader crates/model/src/orderbook/level.rs (BookLevel); exchange-core OrderBookDirectImpl (Bucket)
 */
import type { Side } from './matchCommand.js';

/**
 * A resting order, linked into its level's queue. Mutable: the book updates it in place, and recycles nodes of
 * orders that left the book (`reset`).
 */
export class OrderNode {
  prev: OrderNode | null = null;
  next: OrderNode | null = null;
  level: PriceLevel | null = null;

  constructor(
    public orderId: number,
    public userId: number,
    public side: Side,
    public priceTicks: number,
    /** Current total quantity (lowered by amends). */
    public quantityLots: number,
    /** Unfilled lots. */
    public remainingLots: number,
  ) {}

  /** Reuses this (unlinked) node for another order. */
  reset(orderId: number, userId: number, side: Side, priceTicks: number, quantityLots: number, remainingLots: number): this {
    this.orderId = orderId;
    this.userId = userId;
    this.side = side;
    this.priceTicks = priceTicks;
    this.quantityLots = quantityLots;
    this.remainingLots = remainingLots;
    return this;
  }
}

/** FIFO queue of the orders resting at one price. */
export class PriceLevel {
  head: OrderNode | null = null;
  tail: OrderNode | null = null;
  /** Sum of the remaining lots of its orders. */
  totalLots = 0;
  orderCount = 0;

  constructor(public priceTicks: number) {}

  /** Reuses this (empty, detached) level for another price. */
  reset(priceTicks: number): this {
    this.priceTicks = priceTicks;
    this.head = null;
    this.tail = null;
    this.totalLots = 0;
    this.orderCount = 0;
    return this;
  }

  /** Adds the order at the back of the queue (it has the lowest time priority). */
  append(node: OrderNode): void {
    node.level = this;
    node.prev = this.tail;
    node.next = null;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.totalLots += node.remainingLots;
    this.orderCount++;
  }

  /** Takes the order out of the queue; its remaining lots leave the level's total. */
  unlink(node: OrderNode): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
    node.level = null;
    this.totalLots -= node.remainingLots;
    this.orderCount--;
  }
}
