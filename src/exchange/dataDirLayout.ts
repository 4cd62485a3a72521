/**
 * File names inside an exchange data dir: `command-log.sqlite` (+ -wal, -shm), `snapshots/`, `history.sqlite` (the
 * default history store), `exchange.lock`.
 */
export const DATADIR_FILES = Object.freeze({
  commandLog: 'command-log.sqlite',
  snapshots: 'snapshots',
  history: 'history.sqlite',
  lock: 'exchange.lock',
});
