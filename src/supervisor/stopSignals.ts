/**
 * The signals that ask a cairn supervisor for its orderly stop, routed to one handler so that no signal ends the
 * supervisor before it has stopped its children.
 */

/** Ctrl-C, `kill`'s default, and the terminal closing. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Routes every stop signal to `onSignal(signal, count)`, count 1 for the first: the first starts the orderly stop,
 * later ones (a second Ctrl-C, the terminal closing while stopping) only get reported. Returns a function that removes
 * the handlers (the signals' default actions return with it).
 */
export function onStopSignals(onSignal: (signal: NodeJS.Signals, count: number) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => onSignal(signal, ++count);
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}

/**
 * Resolves with the first stop signal; later ones go to `onRepeat`. `dispose` removes the handlers once the stop is
 * done.
 */
export function waitForStopSignal(onRepeat: (signal: NodeJS.Signals) => void = () => undefined): {
  readonly signal: Promise<NodeJS.Signals>;
  readonly dispose: () => void;
} {
  let resolve!: (signal: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const dispose = onStopSignals((s, count) => (count === 1 ? resolve(s) : onRepeat(s)));
  return { signal, dispose };
}
