/**
 * The history worker thread: follows the data dir's command log (read-only, its own SQLite connection) with a shadow
 * engine and writes the history (HistoryFollower), so history writing runs beside the engine instead of in its event
 * loop. Messages in: `{type:'tip', seq}` (the engine applied up to seq), `{type:'close'}`. Out: `{type:'ready', seq}`,
 * `{type:'progress', seq}`, `{type:'log', level, msg, err?}`, `{type:'closed'}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { join } from 'node:path';
import { SqliteCommandLog } from './commandLog.js';
import { HistoryFollower } from './historyFollower.js';
import { openHistoryDb, type HistoryDb } from './historyDb.js';
import { DATADIR_FILES } from './dataDirLayout.js';
import type { HistoryWorkerData, HistoryWorkerMessage } from './historyWorkerClient.js';
import { SnapshotStore } from './snapshotStore.js';

const port = parentPort!;
const data = workerData as HistoryWorkerData;
const post = (m: HistoryWorkerMessage): void => port.postMessage(m);

let tip = 0;
let closing = false;
let running: Promise<void> | undefined;
let db: HistoryDb | undefined;
let log: SqliteCommandLog | undefined;
let follower: HistoryFollower | undefined;

async function start(): Promise<void> {
  db = await openHistoryDb({
    sqlitePath: join(data.datadir, DATADIR_FILES.history),
    ...(data.url !== undefined ? { url: data.url } : {}),
    ...(data.pgSchema !== undefined ? { pgSchema: data.pgSchema } : {}),
  });
  log = SqliteCommandLog.open(join(data.datadir, DATADIR_FILES.commandLog), { readOnly: true });
  follower = await HistoryFollower.open(db, log, new SnapshotStore(join(data.datadir, DATADIR_FILES.snapshots)));
  post({ type: 'ready', seq: follower.lastSeq, description: db.description });
}

async function run(): Promise<void> {
  while (!closing || (follower !== undefined && follower.lastSeq < tip)) {
    if (follower === undefined || follower.lastSeq >= tip) return;
    try {
      await follower.advanceTo(tip, (seq) => post({ type: 'progress', seq }));
      if (follower.lastSeq < tip) return; // the log does not reach tip yet (the writer will tell again)
    } catch (err) {
      post({ type: 'log', level: 'error', msg: `history write failed; retrying in ${data.retryMs} ms`, err: err instanceof Error ? err.message : String(err) });
      if (closing) return;
      await new Promise((r) => setTimeout(r, data.retryMs));
    }
  }
}

function kick(): void {
  running ??= run().finally(() => {
    running = undefined;
    if (!closing && follower !== undefined && follower.lastSeq < tip) kick();
  });
}

port.on('message', (m: { type: 'tip'; seq: number } | { type: 'close' }) => {
  if (m.type === 'tip') {
    if (m.seq > tip) tip = m.seq;
    kick();
    return;
  }
  closing = true;
  void (async () => {
    kick();
    await running;
    log?.close();
    await db?.close();
    post({ type: 'closed' });
    port.close();
  })();
});

start().catch((err: unknown) => {
  post({ type: 'log', level: 'fatal', msg: 'the history worker could not start', err: err instanceof Error ? err.message : String(err) });
  port.close();
});
