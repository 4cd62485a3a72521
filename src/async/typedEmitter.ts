/** A listener of event `K` of an event map `E` (event name → payload type). */
export type Listener<E, K extends keyof E> = (payload: E[K]) => void;

/**
 * A typed event emitter over an event map (`{ blockConnected: BlockConnectedEvent; … }`): listeners run synchronously
 * in registration order; a listener that throws is reported to `onListenerError` and stops neither the emitter's owner
 * nor the other listeners (a mempool bug must not corrupt block processing). The one emitter of cairn's services
 * (chain and mempool events, sync progress).
 * @see Bitcoin Core validationinterface.h (CValidationInterface callbacks); bcoin's AsyncEmitter
 */
export class TypedEmitter<E> {
  private readonly listeners = new Map<keyof E, Set<Listener<E, keyof E>>>();

  /** @param onListenerError called with a listener's error and the event it was handling (e.g. logs it). */
  constructor(private readonly onListenerError: (err: unknown, event: keyof E) => void) {}

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<E, keyof E>);
    return () => this.off(event, listener);
  }

  /** Adds a listener that is removed after its first call; returns a function that removes it before. */
  once<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes a listener (no-op when it is not registered). */
  off<K extends keyof E>(event: K, listener: Listener<E, K>): void {
    this.listeners.get(event)?.delete(listener as Listener<E, keyof E>);
  }

  /** Number of listeners of an event. */
  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event` with `payload` (a snapshot of the listeners: adding one during emit waits). */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
