/**
 * The link between a cairn supervisor and each child it starts: a pipe the supervisor holds open for as long as it
 * lives. The kernel closes it however the supervisor ends — a clean exit, a crash, an out-of-memory kill or a SIGKILL
 * — so a child that sees the pipe close knows its supervisor is gone, and stops itself as it does on SIGINT. This is
 * the child side; SupervisedProcess is the supervisor side.
 *
 * Protocol: the supervisor starts the child with the pipe's read end as file descriptor SUPERVISOR_FD and names it in
 * the environment (`CAIRN_SUPERVISOR_FD=3`, plus `CAIRN_SUPERVISOR_STOP_TIMEOUT_MS`, the time the supervisor would
 * give the child to stop before SIGKILL). Before it sends SIGINT for an orderly stop, the supervisor writes the line
 * `stop`; a child that has read it and then loses its supervisor is already stopping and is not signalled again, only
 * held to the deadline. The pipe carries nothing else.
 */
import { Socket } from 'node:net';

/** The descriptor number of the link in the child (the first after stdin, stdout, stderr). */
export const SUPERVISOR_FD = 3;
/** Environment variable naming the link's descriptor in the child. */
export const SUPERVISOR_FD_ENV = 'CAIRN_SUPERVISOR_FD';
/** Environment variable with the supervisor's stop timeout for this child, ms (the child enforces it once alone). */
export const SUPERVISOR_STOP_TIMEOUT_ENV = 'CAIRN_SUPERVISOR_STOP_TIMEOUT_MS';
/** What the supervisor writes on the link just before it sends SIGINT. */
export const STOP_NOTICE = 'stop\n';
/** Stop timeout a child assumes when the environment gives none, ms (the supervisors' default). */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** The environment that tells a child where its link is and how long it may take to stop. */
export function supervisorLinkEnv(stopTimeoutMs: number): Record<string, string> {
  return { [SUPERVISOR_FD_ENV]: String(SUPERVISOR_FD), [SUPERVISOR_STOP_TIMEOUT_ENV]: String(Math.round(stopTimeoutMs)) };
}

/** How the child learned its supervisor is gone. */
export type SupervisorGoneReason = 'link-closed' | 'link-error';

/** A child's watch on its supervisor (see watchSupervisor). */
export interface SupervisorWatch {
  /** True once the supervisor has announced an orderly stop (it then sends SIGINT). */
  readonly stopRequested: boolean;
  /** True once the link has closed: the supervisor is gone. */
  readonly supervisorGone: boolean;
}

/** Options of watchSupervisor; the defaults are what a cairn command wants. */
export interface WatchSupervisorOptions {
  /** Where the link is described (default process.env; the two variables are removed from it once read). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Called once when the supervisor is gone and had not asked for a stop. Default: the process sends itself SIGINT,
   * so the command's own Ctrl-C shutdown runs (or, before it has installed one, the process ends as on Ctrl-C).
   */
  readonly onGone?: (reason: SupervisorGoneReason) => void;
  /**
   * Called when the process is still alive the stop timeout after its supervisor went away. Default: a message on
   * standard error and process.exit(1), which is what the supervisor's SIGKILL would have done.
   */
  readonly onDeadline?: () => void;
  /** Where the watch explains itself (default standard error). */
  readonly write?: (line: string) => void;
}

/**
 * Watches the link to this process's supervisor, when it was started by one (the environment names the link);
 * returns undefined otherwise. When the link closes without a stop notice, `onGone` runs (by default a SIGINT to
 * this process); from then on the process has the supervisor's stop timeout to end, after which `onDeadline` runs.
 * Neither the link nor the deadline keeps the process alive. The environment variables are removed, so processes this
 * one starts do not take the link for theirs. A malformed or unusable link is reported on `write` and ignored.
 */
export function watchSupervisor(options: WatchSupervisorOptions = {}): SupervisorWatch | undefined {
  const env = options.env ?? process.env;
  const fdText = env[SUPERVISOR_FD_ENV];
  const timeoutText = env[SUPERVISOR_STOP_TIMEOUT_ENV];
  delete env[SUPERVISOR_FD_ENV];
  delete env[SUPERVISOR_STOP_TIMEOUT_ENV];
  if (fdText === undefined) return undefined;
  const write = options.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  const fd = /^\d+$/.test(fdText) ? Number(fdText) : NaN;
  if (!(fd >= 3)) {
    write(`cairn: ignoring ${SUPERVISOR_FD_ENV}='${fdText}' (not a descriptor number >= 3)`);
    return undefined;
  }
  const timeoutMs = timeoutText !== undefined && /^\d+$/.test(timeoutText) ? Number(timeoutText) : DEFAULT_STOP_TIMEOUT_MS;
  let link: Socket;
  try {
    link = new Socket({ fd, readable: true, writable: false });
  } catch (err) {
    write(`cairn: ignoring ${SUPERVISOR_FD_ENV}=${fd}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  const onGone = options.onGone ?? (() => process.kill(process.pid, 'SIGINT'));
  const onDeadline =
    options.onDeadline ??
    (() => {
      write(`cairn: still running ${timeoutMs} ms after the supervisor went away; exiting`);
      process.exit(1);
    });
  let stopRequested = false;
  let gone = false;
  let received = '';
  const lost = (reason: SupervisorGoneReason): void => {
    if (gone) return;
    gone = true;
    link.destroy();
    write(
      stopRequested
        ? `cairn: the supervisor went away while this process was stopping; it has ${timeoutMs} ms to finish`
        : `cairn: the supervisor went away (${reason}); stopping as on SIGINT (at most ${timeoutMs} ms)`,
    );
    setTimeout(onDeadline, timeoutMs).unref();
    if (!stopRequested) onGone(reason);
  };
  link.setEncoding('utf8');
  link.on('data', (chunk: string) => {
    // Only the stop notice is ever sent; keep no more than its length of unread text.
    received = (received + chunk).slice(-STOP_NOTICE.length * 2);
    if (received.includes(STOP_NOTICE)) stopRequested = true;
  });
  link.on('end', () => lost('link-closed'));
  link.on('close', () => lost('link-closed'));
  link.on('error', () => lost('link-error'));
  link.unref();
  return {
    get stopRequested() {
      return stopRequested;
    },
    get supervisorGone() {
      return gone;
    },
  };
}
