/**
 * Equivalence check of two versions of the exchange engine on the exchange bench's stream: this checkout's engine
 * and the one in another checkout (a git worktree of the base commit) apply the same 300,000-odd sequenced commands;
 * every outcome must print the same JSON (results and events, amounts as decimal strings), compare equal as plain
 * objects (plainOutcome), and the state hashes must agree every 50,000 commands and at the end. Run with and without
 * user events. For changes of the engine's hot path or of the event and result objects (their classes, not their
 * shapes): a consumer reading the old fields must see the same values.
 *
 * Usage: node --import tsx bench/engineEquivalence.ts <other checkout> [commands]
 * (e.g. `git worktree add /tmp/base <commit> && cp -al node_modules /tmp/base/`). Exits 1 on any difference.
 */
import { isDeepStrictEqual } from 'node:util';
import { resolve } from 'node:path';
import type { SequencedCommand } from '../src/exchange/engineCommand.js';
import type { CommandOutcome } from '../src/exchange/engineEvent.js';
import { plainOutcome } from '../src/exchange/engineEvent.js';
import { ExchangeEngine } from '../src/exchange/engine.js';
import { computeStateHash } from '../src/exchange/engineState.js';
import { buildStreams } from './exchange.bench.js';

/** The part of another checkout's engine this check uses. */
interface OtherEngine {
  userEvents: boolean;
  apply(sc: SequencedCommand): CommandOutcome;
}

const other = process.argv[2];
if (other === undefined) {
  console.error('usage: node --import tsx bench/engineEquivalence.ts <other checkout> [commands]');
  process.exit(2);
}
const commands = Number(process.argv[3] ?? 300_000);
const otherRoot = resolve(other);
const OtherEngineClass = (await import(`${otherRoot}/src/exchange/engine.ts`)).ExchangeEngine as new () => OtherEngine;
const otherHash = (await import(`${otherRoot}/src/exchange/engineState.ts`)).computeStateHash as (e: OtherEngine) => string;

// The exchange bench's market, funding and stream, sequenced as that bench applies them.
const { sequenced } = buildStreams(commands);

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
let failed = false;
for (const userEvents of [true, false]) {
  const mine = new ExchangeEngine();
  const theirs = new OtherEngineClass();
  mine.userEvents = userEvents;
  theirs.userEvents = userEvents;
  let events = 0;
  let differences = 0;
  for (let i = 0; i < sequenced.length; i++) {
    const a = mine.apply(sequenced[i]!);
    const b = theirs.apply(sequenced[i]!);
    events += a.events.length;
    const same = json(a) === json(b) && isDeepStrictEqual(plainOutcome(a), plainOutcome(b));
    if (!same && differences++ < 3) console.log(`seq ${i + 1}: outcomes differ\n  this:  ${json(a).slice(0, 600)}\n  other: ${json(b).slice(0, 600)}`);
    if ((i + 1) % 50_000 === 0 || i === sequenced.length - 1) {
      if (computeStateHash(mine) !== otherHash(theirs)) {
        differences++;
        console.log(`seq ${i + 1}: state hashes differ`);
      }
    }
  }
  console.log(`userEvents = ${userEvents}: ${sequenced.length.toLocaleString('en-US')} commands, ${events.toLocaleString('en-US')} events, ${differences} differences; state hash ${computeStateHash(mine)}`);
  if (differences !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
