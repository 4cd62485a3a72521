/**
 * The wallet service's secret files in its data dir: random keys written once with mode 0600 and read on every start
 * (the master key that encrypts the custodial wallets' seeds, the HMAC key of the session tokens). A file found with
 * group or other permissions is tightened to 0600 and reported.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What loadOrCreateSecretFile found. */
export interface SecretFile {
  /** The secret, `bytes` long. */
  readonly secret: Uint8Array;
  /** True when this call created the file. */
  readonly created: boolean;
  /** True when the file had group/other permissions and was chmod-ed to 0600. */
  readonly tightened: boolean;
}

/**
 * Reads a secret (lower-case hex, one line) from `path`, or creates the file with `bytes` random bytes, mode 0600,
 * fsynced and atomically (two processes starting at once cannot write two different secrets).
 * @throws Error with code ESECRET when the file exists but does not hold `bytes` bytes of hex; file-system errors
 */
export async function loadOrCreateSecretFile(path: string, bytes = 32): Promise<SecretFile> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let created = false;
  // Written beside the target, then linked into place: link fails when the file exists, so two processes starting at
  // once agree on one secret, and a reader never sees a half-written file.
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(`${randomBytes(bytes).toString('hex')}\n`, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await chmod(tmp, 0o600);
    await link(tmp, path);
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  let tightened = false;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    // An older file may have been made readable by others since it was written.
    await chmod(path, 0o600);
    tightened = true;
  }
  const text = (await readFile(path, 'utf8')).trim();
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(text)) {
    throw Object.assign(new Error(`${path} does not hold a ${bytes}-byte hex secret`), { code: 'ESECRET' });
  }
  return { secret: new Uint8Array(Buffer.from(text, 'hex')), created, tightened };
}
