/**
 * The interactive `cairn sim` shell: a menu over a fast-mode Simulation in which every user is a real node. Create
 * users, make real signed transactions (the sender is debited; refused when short), see users' status, show every
 * user's block tree side by side with forks, tips and getchaintips statuses, mine, run the Poisson process for a while,
 * set latency, partition and heal, run a scenario, export. The shell asks its questions through an injected `ask`
 * and writes through `print`, so the CLI wires it to a terminal (or a pipe) and tests drive it line by line.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatFixedPoint, parseFixedPoint } from '../consensus/amount.js';
import { decodeSegwitAddress } from '../crypto/address.js';
import { hashToHex } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import { hashKey } from '../primitives/hashKey.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { Simulation } from './simulation.js';
import type { SimUser } from './simUser.js';
import { SimError } from './simError.js';
import { readScenarioFile, resultsTable, runScenario, writeResults } from './scenario.js';
import type { ExperimentResult } from './experiments.js';
import { LiveRunner, liveParams } from './liveMode.js';

/**
 * What a question expects, for an io that can show a real prompt (a menu, a validated field): `choice` picks one of
 * `choices` (values are what `ask` then returns); `text` is free text checked by `validate` (true, or the reason it
 * is refused); `number` is a number in [min, max] (`integer`: whole numbers only). A line-reading io may ignore the
 * spec: the shell checks every answer again and refuses bad ones with a SimError.
 */
export type AskSpec =
  | { readonly kind: 'choice'; readonly message: string; readonly choices: readonly { readonly value: string; readonly label: string }[] }
  | { readonly kind: 'text'; readonly message: string; readonly default?: string; readonly validate?: (text: string) => true | string }
  | { readonly kind: 'number'; readonly message: string; readonly default: number; readonly min: number; readonly max: number; readonly integer: boolean };

/**
 * Terminal side of the shell. `ask` resolves undefined when input ended or the user aborted (the shell then quits);
 * `question` is the line-mode prompt text, `spec` what the question expects. `menu` true: the io shows the menu itself
 * (spec kind `choice`), so the shell does not print the numbered list.
 */
export interface ShellIo {
  ask(question: string, spec?: AskSpec): Promise<string | undefined>;
  print(text: string): void;
  readonly menu?: boolean;
}

/** Options of the shell's simulation. */
export interface SimShellOptions {
  readonly seed: string;
  /** One-hop latency, ms (default 1000). */
  readonly latencyMs?: number;
  /**
   * Live mode: real time and real PoW at a simulation difficulty (liveParams); "run" then lasts that many wall
   * seconds. Absent = fast mode (virtual clock, trivial PoW).
   */
  readonly live?: { readonly blockIntervalSec: number; readonly hashesPerBlock: number };
}

/** The menu, in order: number → [name, label]. */
const MENU: readonly (readonly [string, string])[] = [
  ['create', 'create user'],
  ['pay', 'make a transaction'],
  ['status', "users' status"],
  ['chains', 'show chains'],
  ['mine', 'mine now'],
  ['run', 'run the network for a while (Poisson mining by hash share)'],
  ['latency', 'set latency'],
  ['partition', 'partition'],
  ['heal', 'heal'],
  ['scenario', 'run a scenario file'],
  ['export', 'export results'],
  ['quit', 'quit'],
];

const COIN_DECIMALS = 8;

/** A user's name: 1–32 letters, digits, _ or -. */
const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;

/** Formats sats as coins with 8 decimals (trailing zeros trimmed). */
function coins(sats: bigint): string {
  return formatFixedPoint(sats, COIN_DECIMALS, true);
}

function short(entry: BlockIndexEntry): string {
  return entry.hashHex.slice(-6);
}

/**
 * The interactive shell. `start()` loops on the menu until "quit" or end of input; `execute(name)` runs one menu
 * item (asking its questions through io.ask).
 */
export class SimShell {
  readonly sim: Simulation;
  private lastResult: ExperimentResult | undefined;

  constructor(
    private readonly options: SimShellOptions,
    private readonly io: ShellIo,
  ) {
    this.sim = new Simulation({
      seed: options.seed,
      network: { latency: { kind: 'fixed', ms: options.latencyMs ?? 1000 }, topology: { kind: 'mesh' } },
      ...(options.live
        ? { params: liveParams(options.live.blockIntervalSec, options.live.hashesPerBlock), blockIntervalSec: options.live.blockIntervalSec }
        : {}),
    });
  }

  /** Runs the menu loop; resolves when the user quits or input ends. Closes the simulation. */
  async start(): Promise<void> {
    this.io.print(
      `cairn sim — every user is a real cairn node (chain, mempool, assembler, keys) on a simulated network (seed ${this.options.seed}; ` +
        `${this.options.live ? `live: real time, real PoW, ${this.options.live.blockIntervalSec} s blocks` : 'fast mode: virtual clock'}).\n` +
        'A coinbase output can be spent 100 blocks after its own: mine 100 blocks with a user before it can pay.\n',
    );
    try {
      for (;;) {
        if (this.io.menu !== true) this.io.print(MENU.map(([name, label], i) => `  ${String(i + 1).padStart(2)}) ${label} [${name}]`).join('\n') + '\n');
        const answer = await this.io.ask('choice> ', { kind: 'choice', message: 'what next?', choices: MENU.map(([value, label]) => ({ value, label })) });
        if (answer === undefined) return;
        const a = answer.trim();
        if (a === '') continue;
        const item = /^\d+$/.test(a) ? MENU[Number(a) - 1]?.[0] : MENU.find(([name]) => name === a)?.[0];
        if (item === undefined) {
          this.io.print(`unknown choice '${a}'\n`);
          continue;
        }
        if (item === 'quit') return;
        try {
          await this.execute(item);
        } catch (err) {
          if (err instanceof SimError) this.io.print(`refused: ${err.code}: ${err.message}\n`);
          else if (err instanceof InputEnded) return;
          else throw err;
        }
      }
    } finally {
      await this.sim.close();
    }
  }

  private async need(question: string, fallback?: string, validate?: (text: string) => true | string): Promise<string> {
    const spec: AskSpec = { kind: 'text', message: question, ...(fallback !== undefined ? { default: fallback } : {}), ...(validate ? { validate } : {}) };
    const a = await this.io.ask(fallback !== undefined ? `${question} [${fallback}]: ` : `${question}: `, spec);
    if (a === undefined) throw new InputEnded();
    const t = a.trim();
    return t === '' && fallback !== undefined ? fallback : t;
  }

  private async needNumber(question: string, fallback: string, min: number, max: number, integer = false): Promise<number> {
    const spec: AskSpec = { kind: 'number', message: question, default: Number(fallback), min, max, integer };
    const a = await this.io.ask(`${question} [${fallback}]: `, spec);
    if (a === undefined) throw new InputEnded();
    const t = a.trim() === '' ? fallback : a.trim();
    const v = Number(t);
    if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      throw new SimError('bad-amount', `${question}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got '${t}'`);
    }
    return v;
  }

  /** Asks for one of the existing users: a menu of their names when the io shows menus, else a line. */
  private async needUser(question: string): Promise<SimUser> {
    const names = this.sim.users.map((u) => u.name);
    if (this.io.menu === true && names.length > 0) {
      const a = await this.io.ask(`${question}: `, { kind: 'choice', message: question, choices: names.map((n) => ({ value: n, label: n })) });
      if (a === undefined) throw new InputEnded();
      return this.sim.user(a);
    }
    return this.sim.user(await this.need(question));
  }

  /** Lets every message in flight arrive (the network settles), without new blocks. */
  private async settle(): Promise<void> {
    await this.sim.runToEnd();
  }

  /**
   * Runs one menu item by name.
   * @throws SimError for refused input (the menu loop prints it and continues)
   */
  async execute(item: string): Promise<void> {
    const sim = this.sim;
    switch (item) {
      case 'create': {
        const name = await this.need('name', undefined, (t) =>
          !NAME_RE.test(t.trim()) ? 'a name is 1–32 letters, digits, _ or -' : sim.users.some((u) => u.name === t.trim()) ? `${t.trim()} exists already` : true,
        );
        if (!NAME_RE.test(name)) throw new SimError('bad-scenario', 'a name is 1–32 letters, digits, _ or -');
        const share = await this.needNumber('hash share (weight)', '1', 0, 1e6);
        const u = await sim.addUser({ name, hashShare: share });
        await this.settle();
        this.io.print(`created ${u.name} (node ${u.index}) address ${u.address}, peers ${sim.network.peers(u.index).length}, height ${u.chain.height}\n`);
        return;
      }
      case 'pay': {
        const from = await this.needUser('from');
        const toText = await this.need('to (user name or address)', undefined, (t) => {
          try {
            this.scriptOf(t.trim());
            return true;
          } catch (err) {
            return err instanceof SimError ? err.message : String(err);
          }
        });
        const toScript = this.scriptOf(toText);
        const amountText = await this.need('amount (coins)', undefined, (t) => {
          try {
            return parseFixedPoint(t.trim(), COIN_DECIMALS) > 0n ? true : 'the amount must be more than 0';
          } catch {
            return `'${t.trim()}' is not an amount of coins (up to ${COIN_DECIMALS} decimals)`;
          }
        });
        let amount: bigint;
        try {
          amount = parseFixedPoint(amountText, COIN_DECIMALS);
        } catch {
          throw new SimError('bad-amount', `'${amountText}' is not an amount of coins`);
        }
        const tx = await from.pay(toScript, amount);
        // The sender's node relays the tx to its peers (real encoding, through the network).
        sim.broadcastTx(from, tx);
        await this.settle();
        this.io.print(`sent ${coins(amount)} from ${from.name} to ${toText}: txid ${hashToHex(computeTxid(tx))} (in ${sim.users.filter((u) => u.mempool.has(computeTxid(tx))).length} mempools; mine a block to confirm)\n`);
        return;
      }
      case 'status': {
        if (sim.users.length === 0) {
          this.io.print('no users yet\n');
          return;
        }
        const rows = sim.users.map((u) => {
          const b = u.balance();
          return [u.name, String(u.chain.height), short(u.chain.tip), coins(b.spendableSats), coins(b.immatureSats), coins(b.lockedSats), String(sim.network.peers(u.index).filter((p) => sim.network.connected(u.index, p)).length), String(u.mempool.size), String(u.hashShare)];
        });
        this.io.print(table(['user', 'height', 'tip', 'balance', 'immature', 'pending', 'peers', 'mempool', 'hash'], rows));
        return;
      }
      case 'chains':
        this.io.print(this.renderChains());
        return;
      case 'mine': {
        const u = await this.needUser('miner');
        const n = await this.needNumber('blocks', '1', 1, 10_000, true);
        for (let i = 0; i < n; i++) {
          await sim.mineBlock(u);
          // Fast mode: one block interval passes between blocks, so their times advance as on a real chain.
          if (!this.options.live) await sim.runUntil(sim.queue.nowMs + sim.blockIntervalSec * 1000);
        }
        await this.settle();
        this.io.print(`${u.name} mined ${n} block(s); its tip is height ${u.chain.height} ${short(u.chain.tip)}\n`);
        return;
      }
      case 'run': {
        const live = this.options.live;
        const sec = await this.needNumber(live ? 'wall-clock seconds' : 'virtual seconds', live ? '30' : '6000', 1, live ? 3600 : 1e8);
        const before = sim.stats.mined;
        if (live) {
          await new LiveRunner(sim, live.hashesPerBlock / live.blockIntervalSec).run(sec * 1000);
        } else {
          sim.startMining();
          await sim.runUntil(sim.queue.nowMs + sec * 1000);
          sim.stopMining();
        }
        await this.settle();
        this.io.print(`${sim.stats.mined - before} block(s) found in ${sec} s; one tip: ${sim.oneTip() ? 'yes' : 'no'}\n`);
        return;
      }
      case 'latency': {
        const ms = await this.needNumber('one-hop latency ms', '1000', 0, 3_600_000);
        sim.network.setDefaultLatency({ kind: 'fixed', ms });
        this.io.print(`latency set to ${ms} ms on every link\n`);
        return;
      }
      case 'partition': {
        const names = (await this.need('users of the first side (comma-separated)')).split(',').map((s) => s.trim()).filter(Boolean);
        const side = new Set(names.map((n) => sim.user(n).index));
        sim.partition(sim.users.map((u) => (side.has(u.index) ? 0 : 1)));
        this.io.print(`partitioned: {${names.join(', ')}} | {${sim.users.filter((u) => !side.has(u.index)).map((u) => u.name).join(', ')}}\n`);
        return;
      }
      case 'heal': {
        sim.heal();
        await this.settle();
        const depth = Math.max(0, ...sim.users.map((u) => u.maxReorgDepth));
        this.io.print(`healed; one tip: ${sim.oneTip() ? 'yes' : 'no'}; deepest reorg so far ${depth}\n`);
        return;
      }
      case 'scenario': {
        const path = await this.need('scenario file');
        const sc = readScenarioFile(path);
        this.lastResult = await runScenario(sc, (l) => this.io.print(`${l}\n`));
        this.io.print(resultsTable(this.lastResult));
        return;
      }
      case 'export': {
        const dir = await this.need('folder', 'sim-results');
        const written: string[] = [];
        if (this.lastResult) written.push(...writeResults(dir, this.lastResult));
        const state = join(dir, 'users.json');
        try {
          mkdirSync(dir, { recursive: true });
          writeFileSync(state, JSON.stringify(this.snapshot(), null, 2) + '\n');
        } catch (err) {
          throw new SimError('io-error', `cannot write ${state}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
        written.push(state);
        this.io.print(`wrote ${written.join(', ')}\n`);
        return;
      }
      default:
        throw new SimError('bad-scenario', `unknown menu item ${item}`);
    }
  }

  /** A user name → its script; else a bech32 address of the simulation's network. */
  private scriptOf(text: string): Uint8Array {
    const u = this.sim.users.find((x) => x.name === text);
    if (u) return u.scriptPubKey;
    try {
      const a = decodeSegwitAddress(text, this.sim.params.bech32Hrp);
      return Uint8Array.of(a.witnessVersion === 0 ? 0x00 : 0x50 + a.witnessVersion, a.program.length, ...a.program);
    } catch {
      throw new SimError('unknown-user', `'${text}' is neither a user nor a ${this.sim.params.bech32Hrp} address`);
    }
  }

  /** Users, balances, tips and chain tips as plain JSON (amounts as decimal strings of coins). */
  snapshot(): unknown {
    return this.sim.users.map((u) => {
      const b = u.balance();
      return {
        name: u.name,
        address: u.address,
        hashShare: u.hashShare,
        height: u.chain.height,
        tip: u.chain.tip.hashHex,
        balance: coins(b.spendableSats),
        immature: coins(b.immatureSats),
        chainTips: u.chain.getChainTips().map((t) => ({ height: t.height, hash: hashToHex(t.hash), branchlen: t.branchlen, status: t.status })),
      };
    });
  }

  /**
   * Every user's block tree, side by side: one column per user, one row per height (the top `rows` heights), the
   * main-chain block's short hash (finder in brackets), `*` on the user's tip, `+hash` for side branches at that
   * height; then each user's getchaintips.
   */
  renderChains(rows = 12): string {
    const sim = this.sim;
    if (sim.users.length === 0) return 'no users yet\n';
    const top = Math.max(...sim.users.map((u) => Math.max(...u.chain.getChainTips().map((t) => t.height))));
    const cols = sim.users.map((u) => this.columnOf(u, top, rows));
    const header = ['height', ...sim.users.map((u) => u.name)];
    const body: string[][] = [];
    for (let i = 0; i < rows && top - i >= 0; i++) body.push([String(top - i), ...cols.map((c) => c[i] ?? '')]);
    const tips = sim.users
      .map((u) => `${u.name}: ` + u.chain.getChainTips().map((t) => `${t.height}:${hashToHex(t.hash).slice(-6)} ${t.status}${t.branchlen ? ` (branchlen ${t.branchlen})` : ''}`).join('; '))
      .join('\n');
    return table(header, body) + 'getchaintips:\n' + tips + '\n';
  }

  private columnOf(u: SimUser, top: number, rows: number): string[] {
    const sides = new Map<number, string[]>();
    for (const t of u.chain.getChainTips()) {
      if (t.status === 'active') continue;
      let e = u.chain.getEntry(t.hash);
      while (e !== undefined && !u.chain.isMainChain(e)) {
        const list = sides.get(e.height) ?? [];
        list.push(`+${short(e)}`);
        sides.set(e.height, list);
        e = u.chain.getEntry(e.header.prevBlock);
      }
    }
    const out: string[] = [];
    for (let i = 0; i < rows && top - i >= 0; i++) {
      const h = top - i;
      const e = u.chain.getEntryByHeight(h);
      let cell = '';
      if (e) {
        const f = this.sim.finder.get(hashKey(e.hash));
        cell = `${short(e)}(${f === undefined ? 'g' : this.sim.users[f]!.name.slice(0, 5)})${e.hash === u.chain.tip.hash ? '*' : ''}`;
      }
      const side = sides.get(h);
      if (side) cell += (cell ? ' ' : '') + side.join(' ');
      out.push(cell === '' ? '.' : cell);
    }
    return out;
  }
}

/** Input ended in the middle of a question. */
class InputEnded extends Error {}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
