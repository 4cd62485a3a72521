/**
 * A child process a cairn supervisor owns: started in its own process group (so a Ctrl-C on the terminal reaches
 * only the supervisor, which then stops the children in order), its standard output and error appended to a console
 * file, linked to the supervisor by a pipe whose close tells it the supervisor is gone (supervisorLink.ts), restarted
 * with exponential backoff when it exits on its own, and stopped with SIGINT then SIGKILL after a timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_STOP_TIMEOUT_MS, STOP_NOTICE, SUPERVISOR_FD, supervisorLinkEnv } from './supervisorLink.js';

/** What to run. */
export interface SupervisedProcessOptions {
  /** Display name, e.g. `node1`, `log-collector`. */
  readonly name: string;
  /** Executable (process.execPath for cairn children). */
  readonly command: string;
  readonly args: readonly string[];
  /** Where the child's standard output and error are appended. */
  readonly consoleFile: string;
  /** Environment variables on top of the supervisor's own. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Time the child gets to stop on SIGINT before SIGKILL, ms (default 30,000). The child learns it too: once its
   * supervisor is gone, it holds itself to the same bound.
   */
  readonly stopTimeoutMs?: number;
  /** Restart after an exit that stop() did not ask for (default true). */
  readonly restart?: boolean;
  /** First restart delay, ms (default 1,000); doubles up to maxBackoffMs, back to the first after a stable minute. */
  readonly backoffMs?: number;
  /** Longest restart delay, ms (default 30,000). */
  readonly maxBackoffMs?: number;
}

/** Life cycle: running → (exited on its own) restarting → running …; stop(): stopping → stopped. */
export type ProcessState = 'running' | 'restarting' | 'stopping' | 'stopped';

/** How a child ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly atMs: number;
}

/** Runs lasting this long reset the restart backoff, ms. */
const STABLE_RUN_MS = 60_000;

/** One supervised child process. */
export class SupervisedProcess {
  readonly name: string;
  private readonly options: SupervisedProcessOptions;
  private readonly logger: Logger | undefined;
  private child: ChildProcess | undefined;
  /** The supervisor's end of the link pipe of the running child. */
  private link: Socket | undefined;
  private exitPromise: Promise<ProcessExit> | undefined;
  private currentState: ProcessState = 'stopped';
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private startedAtMs = 0;
  /** Starts so far (1 after the first). */
  starts = 0;
  /** The last exit, if any. */
  lastExit: ProcessExit | undefined;
  /** When the pending restart happens (ms since the epoch), while restarting. */
  restartAtMs: number | undefined;
  /** Called with the new pid after every start. */
  onStart: ((pid: number) => void) | undefined;

  constructor(options: SupervisedProcessOptions, deps: { logger?: Logger } = {}) {
    this.name = options.name;
    this.options = options;
    this.logger = deps.logger;
    this.backoffMs = options.backoffMs ?? 1_000;
  }

  /** Process id of the running child, undefined when none runs. */
  get pid(): number | undefined {
    return this.currentState === 'running' || this.currentState === 'stopping' ? this.child?.pid : undefined;
  }

  /** The life-cycle state. */
  get state(): ProcessState {
    return this.currentState;
  }

  /** Time the child gets to stop on SIGINT before SIGKILL, ms. */
  get stopTimeoutMs(): number {
    return this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  }

  /** Starts the child. @throws Error when it cannot be spawned (no pid) */
  start(): void {
    mkdirSync(dirname(this.options.consoleFile), { recursive: true });
    const fd = openSync(this.options.consoleFile, 'a');
    let child: ChildProcess;
    try {
      // Descriptor 3 (SUPERVISOR_FD) is the link: a pipe whose other end only this process holds (libuv opens it
      // close-on-exec, so later children do not inherit it).
      child = spawn(this.options.command, this.options.args, {
        stdio: ['ignore', fd, fd, 'pipe'],
        detached: true,
        env: { ...process.env, ...this.options.env, ...supervisorLinkEnv(this.stopTimeoutMs) },
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`cannot start ${this.name}`);
    const link = child.stdio[SUPERVISOR_FD] as Socket;
    // Nothing is read from the child; reading lets the link close when the child ends. A child gone early is no error.
    link.on('error', () => undefined);
    link.resume();
    this.link = link;
    this.child = child;
    this.currentState = 'running';
    this.startedAtMs = Date.now();
    this.starts++;
    this.restartAtMs = undefined;
    this.exitPromise = new Promise<ProcessExit>((resolve) => {
      child.once('error', (err) => this.logger?.error({ err: err.message, process: this.name }, 'child process error'));
      child.once('exit', (code, signal) => {
        link.destroy();
        const exit = { code, signal, atMs: Date.now() };
        this.lastExit = exit;
        resolve(exit);
        this.onExit(exit);
      });
    });
    this.logger?.info({ process: this.name, pid: child.pid, args: this.options.args }, 'child process started');
    this.onStart?.(child.pid);
  }

  private onExit(exit: ProcessExit): void {
    if (this.currentState === 'stopping' || this.currentState === 'stopped') return;
    if (this.options.restart === false) {
      this.currentState = 'stopped';
      this.logger?.warn({ process: this.name, ...exit }, 'child process exited');
      return;
    }
    if (exit.atMs - this.startedAtMs >= STABLE_RUN_MS) this.backoffMs = this.options.backoffMs ?? 1_000;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.currentState = 'restarting';
    this.restartAtMs = Date.now() + delay;
    this.logger?.warn({ process: this.name, code: exit.code, signal: exit.signal, restartInMs: delay }, 'child process exited; restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.currentState !== 'restarting') return;
      try {
        this.start();
      } catch (err) {
        this.onExit({ code: null, signal: null, atMs: Date.now() });
        this.logger?.error({ process: this.name, err: String(err) }, 'restart failed');
      }
    }, delay);
  }

  /**
   * Stops the child: the stop notice on the link, SIGINT (a cairn process shuts down cleanly on it), then SIGKILL after
   * `timeoutMs` (default the stopTimeoutMs option). Resolves with how it ended and whether it had to be killed; at once
   * when nothing runs.
   */
  async stop(timeoutMs: number = this.stopTimeoutMs): Promise<{ exit: ProcessExit | undefined; killed: boolean }> {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const running = this.currentState === 'running';
    this.currentState = 'stopping';
    if (!running || this.child === undefined || this.exitPromise === undefined) {
      this.currentState = 'stopped';
      return { exit: this.lastExit, killed: false };
    }
    // The notice first: a child that loses this supervisor after it knows it is stopping is not signalled twice.
    this.link?.write(STOP_NOTICE);
    this.child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const first = await Promise.race([this.exitPromise, timedOut]);
    clearTimeout(timer);
    let killed = false;
    if (first === 'timeout') {
      this.logger?.warn({ process: this.name, timeoutMs }, 'child did not stop in time; SIGKILL');
      this.child.kill('SIGKILL');
      killed = true;
    }
    const exit = await this.exitPromise;
    this.currentState = 'stopped';
    return { exit, killed };
  }
}
