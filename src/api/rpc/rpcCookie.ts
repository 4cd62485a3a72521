import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Name of the cookie file in the data dir (Core's `.cookie`). */
export const COOKIE_FILE = '.cookie';
/** User name of cookie authentication (Core's `__cookie__`). */
export const COOKIE_USER = '__cookie__';

/** Path of the cookie file of a data dir. */
export function cookiePathOf(datadir: string): string {
  return join(datadir, COOKIE_FILE);
}

/**
 * Writes `<datadir>/.cookie` holding `userPass` (`__cookie__:<64 hex>`) with mode 0600, through a temporary file and a
 * rename so a reader never sees half a cookie. Returns its path.
 * @see Bitcoin Core rpc/request.cpp GenerateAuthCookie
 */
export function writeCookie(datadir: string, userPass: string): string {
  mkdirSync(datadir, { recursive: true });
  const path = cookiePathOf(datadir);
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, userPass, { mode: 0o600 });
  // The mode given to writeFileSync is filtered by the umask; the cookie must be owner-only whatever it is.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}
