/**
 * Account passwords (the wallet service's and the exchange's) hashed with scrypt (node:crypto), a random 16-byte salt per password and the cost parameters stored
 * with the hash, so the cost can be raised later without breaking old hashes. Stored form (PHC-like, one string):
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` with a 32-byte hash. Verification is constant-time.
 * @see RFC 7914 (scrypt); OWASP Password Storage Cheat Sheet
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters: N (CPU/memory cost, a power of two), r (block size), p (parallelism). */
export interface PasswordScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Default cost: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s on one core). */
export const DEFAULT_PASSWORD_SCRYPT: PasswordScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
/** Largest N accepted from a stored hash (2^20 = 1 GiB at r = 8). */
const MAX_N = 2 ** 20;
const HASH_BYTES = 32;
const SALT_BYTES = 16;

function checkParams({ N, r, p }: PasswordScryptParams): void {
  const ok = Number.isInteger(N) && N >= 2 && N <= MAX_N && (N & (N - 1)) === 0 &&
    Number.isInteger(r) && r >= 1 && r <= 32 && Number.isInteger(p) && p >= 1 && p <= 16;
  if (!ok) throw new RangeError(`scrypt parameters N=${N} r=${r} p=${p} are out of range`);
}

function derive(password: string, salt: Uint8Array, params: PasswordScryptParams, length: number): Promise<Buffer> {
  const maxmem = 128 * params.N * params.r + 128 * params.r * params.p + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, length, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Hashes a password with a fresh random salt; returns the stored form.
 * @throws RangeError when the parameters are out of range
 */
export async function hashPassword(password: string, params: PasswordScryptParams = DEFAULT_PASSWORD_SCRYPT): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Parsed stored form, or undefined when it is malformed. */
function parseStored(stored: string): { params: PasswordScryptParams; salt: Buffer; hash: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((x) => (/^\d{1,8}$/.test(x!) ? Number(x) : NaN)) as [number, number, number];
  const params = { N, r, p };
  try {
    checkParams(params);
  } catch {
    return undefined;
  }
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) return undefined;
  return { params, salt, hash };
}

/**
 * True when `password` matches the stored hash (with the stored salt and parameters; constant-time comparison).
 * A malformed stored hash never matches.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStored(stored);
  if (parsed === undefined) return false;
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}
