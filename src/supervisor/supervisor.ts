/**
 * The one supervision module of cairn's multi-process commands (`cairn devnet` today; the exchange, `cairn web` and
 * `cairn elect demo` next): a group of named child processes, each restarted by its policy while the supervisor runs,
 * stopped in stages (the clients before the servers they use, the log collector last), and linked to the supervisor
 * so none outlives it: a child whose supervisor disappears — however it ends — stops itself as on SIGINT
 * (supervisorLink.ts). The command wires the rest: stopSignals.ts routes Ctrl-C, SIGTERM and SIGHUP to stop(), and
 * leftoverProcesses.ts cleans up after a supervisor whose children could not stop themselves.
 */
import type { Logger } from 'pino';
import { SupervisedProcess, type ProcessExit, type SupervisedProcessOptions } from './supervisedProcess.js';

/** A child of a Supervisor: what to run, and when it stops. */
export interface SupervisorChildOptions extends SupervisedProcessOptions {
  /**
   * Stop stage: stop() ends the children stage by stage, lowest first, those of one stage together (default 0). E.g.
   * a client (stage 0) before the servers it uses (1), and a log collector last (2) so it takes everyone's last lines.
   */
  readonly stopStage?: number;
}

/** How one child ended on stop(). */
export interface ChildStopResult {
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when it did not end within its stop timeout and got SIGKILL. */
  readonly killed: boolean;
  /** The whole exit (undefined when it was not running). */
  readonly exit: ProcessExit | undefined;
}

interface Child {
  readonly process: SupervisedProcess;
  readonly stopStage: number;
}

/**
 * A group of supervised child processes (see the module comment). In a composition root:
 * ```ts
 * const supervisor = new Supervisor({ logger });
 * supervisor.add({ name: 'engine', command: process.execPath, args: [...cairnArgs, 'exchange', 'engine'], consoleFile, stopStage: 1 });
 * supervisor.add({ name: 'gateway', command: process.execPath, args: [...cairnArgs, 'exchange', 'gateway'], consoleFile, stopStage: 0 });
 * supervisor.startAll();
 * const stop = waitForStopSignal(); // stopSignals.ts
 * await stop.signal;
 * const results = await supervisor.stop();
 * stop.dispose();
 * ```
 * A child stops itself when its supervisor goes only if it watches the link (every `cairn` command does, from its
 * entry); another program would be left to leftoverProcesses.ts.
 */
export class Supervisor {
  private readonly members: Child[] = [];
  private readonly logger: Logger | undefined;
  private stopping = false;

  constructor(deps: { logger?: Logger } = {}) {
    this.logger = deps.logger;
  }

  /** Adds a child (not started: start it, or startAll()). @throws Error when the name is taken or stop() has begun */
  add(options: SupervisorChildOptions): SupervisedProcess {
    if (this.stopping) throw new Error(`cannot add ${options.name}: the supervisor is stopping`);
    if (this.members.some((m) => m.process.name === options.name)) throw new Error(`a child named ${options.name} exists`);
    const process = new SupervisedProcess(options, this.logger !== undefined ? { logger: this.logger } : {});
    this.members.push({ process, stopStage: options.stopStage ?? 0 });
    return process;
  }

  /** The children, in the order added. */
  get children(): readonly SupervisedProcess[] {
    return this.members.map((m) => m.process);
  }

  /** Starts every child that has not started yet, in the order added. @throws Error when one cannot be spawned */
  startAll(): void {
    for (const m of this.members) if (m.process.starts === 0) m.process.start();
  }

  /**
   * Stops every child, stage by stage (lowest first; together within a stage): SIGINT, then SIGKILL after each child's
   * stop timeout. No restart happens from the moment it is called. Resolves with how each ended, in stop order.
   */
  async stop(): Promise<ChildStopResult[]> {
    this.stopping = true;
    const stages = [...new Set(this.members.map((m) => m.stopStage))].sort((a, b) => a - b);
    const results: ChildStopResult[] = [];
    for (const stage of stages) {
      const members = this.members.filter((m) => m.stopStage === stage);
      const ended = await Promise.all(members.map((m) => m.process.stop()));
      ended.forEach(({ exit, killed }, i) => {
        results.push({ name: members[i]!.process.name, code: exit?.code ?? null, signal: exit?.signal ?? null, killed, exit });
      });
    }
    this.logger?.info({ children: results.map(({ exit: _exit, ...r }) => r) }, 'children stopped');
    return results;
  }
}
