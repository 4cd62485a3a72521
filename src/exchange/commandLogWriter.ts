/**
 * The command log's writer thread: owns the SQLite connection that appends to the log (WAL, synchronous=FULL), so
 * the commit's fsync blocks this thread and not the exchange's event loop, which keeps taking requests meanwhile
 * (they form the next batch). One message is one batch, written in one transaction (one fsync), and answered only
 * after the commit returned, i.e. after the records are on disk. The record format (seq, time_ms, body, CRC-32) is
 * the one SqliteCommandLog reads and checks (commandLog.ts).
 * Messages in: `{type:'append', first, timeMs, bodies}` (bodies: the records' texts joined by '\n' — canonical JSON
 * never holds a raw newline), `{type:'close'}`. Out: `{type:'ready'}`, `{type:'appended', lastSeq}`,
 * `{type:'failed', message}` (the batch is not durable; the writer takes nothing after it), `{type:'closed'}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openLogForAppend, recordChecksum, type LogWriterData, type LogWriterRequest, type LogWriterReply } from './commandLog.js';

const port = parentPort!;
const data = workerData as LogWriterData;
const post = (m: LogWriterReply): void => port.postMessage(m);

let db: Database.Database | undefined;
let failed = false;
try {
  db = openLogForAppend(data.path);
} catch (err) {
  post({ type: 'failed', message: `cannot open ${data.path}: ${(err as Error).message}` });
  failed = true;
}
const insert = db?.prepare('INSERT INTO command_log (seq, time_ms, body, crc) VALUES (?, ?, ?, ?)');
const appendTx = db?.transaction((first: number, timeMs: number, bodies: readonly string[]) => {
  for (let i = 0; i < bodies.length; i++) insert!.run(first + i, timeMs, bodies[i], recordChecksum(first + i, timeMs, bodies[i]!));
});
if (!failed) post({ type: 'ready' });

port.on('message', (m: LogWriterRequest) => {
  if (m.type === 'close') {
    db?.close();
    db = undefined;
    post({ type: 'closed' });
    port.close();
    return;
  }
  if (failed || appendTx === undefined) {
    post({ type: 'failed', message: 'the log writer failed earlier' });
    return;
  }
  try {
    const bodies = m.bodies.split('\n');
    appendTx(m.first, m.timeMs, bodies);
    post({ type: 'appended', lastSeq: m.first + bodies.length - 1 });
  } catch (err) {
    failed = true;
    post({ type: 'failed', message: (err as Error).message });
  }
});
