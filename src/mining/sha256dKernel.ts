import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled miner kernel (assembly/sha256dKernel.ts, built by `npm run build` with asc): `build/sha256d.wasm` at
 * the package root. The path is the same two levels up from src/mining/ (tsx) and from dist/mining/ (compiled).
 */
export const SHA256D_WASM_URL = new URL('../../build/sha256d.wasm', import.meta.url);

/** 2^32: the size of the nonce space. */
export const NONCE_SPACE = 0x1_0000_0000;
const TWO_256 = 1n << 256n;

/** A compiled WebAssembly module (a WebAssembly.Module; opaque here). It can be posted to worker threads. */
export type WasmModule = object;

/** The part of the WebAssembly JS API used here (the project's TypeScript libs declare no WebAssembly types). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: unknown };
}
const wasm = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

/** The raw exports of build/sha256d.wasm (memory layout: assembly/sha256dKernel.ts). */
interface KernelExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  headerPtr(): number;
  targetPtr(): number;
  outPtr(): number;
  setJob(): void;
  scan(start: number, count: number): bigint;
  hashLanes(start: number): void;
  hashHeader(): void;
}

let compiled: WasmModule | undefined;

/**
 * The compiled kernel module, read and compiled synchronously on first use and cached for the thread. A
 * WebAssembly.Module can be posted to worker threads, which then instantiate it without compiling again.
 * @throws Error "miner kernel … is missing: run `npm run build`" when build/sha256d.wasm does not exist
 */
export function loadSha256dModule(): WasmModule {
  if (compiled === undefined) {
    const path = fileURLToPath(SHA256D_WASM_URL);
    if (!existsSync(path)) throw new Error(`miner kernel ${path} is missing: run \`npm run build\``);
    compiled = new wasm.Module(readFileSync(path));
  }
  return compiled;
}

function assertU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= NONCE_SPACE) throw new RangeError(`${what} must be a u32, got ${value}`);
}

function assertHeader(header80: Uint8Array): void {
  if (header80.length !== 80) throw new RangeError(`a block header is 80 bytes, got ${header80.length}`);
}

/**
 * The WebAssembly sha256d miner kernel: one instance per thread. setJob() takes a header and a target; scan() then
 * searches a nonce range for a header hash (sha256d, read as a little-endian 256-bit number) at or below the target.
 * The kernel hashes the first 64 header bytes once per job (the midstate), precomputes everything the nonce does not
 * touch, and hashes four nonces per SIMD pass; candidates from its top-word filter are confirmed with a full 256-bit
 * compare, so the result is exact.
 * PERF: 4-5 M hashes/s per core on the 2-core reference VM (bench/miner.bench.ts), ~20x a node:crypto sha256d loop.
 * @see Bitcoin Core pow.cpp CheckProofOfWork (the same comparison: UintToArith256(hash) <= target)
 */
export class Sha256dKernel {
  private readonly exports: KernelExports;
  private hasJob = false;

  /**
   * Instantiates the kernel from `module` (default: loadSha256dModule()).
   * @throws Error when build/sha256d.wasm is missing (run `npm run build`)
   */
  constructor(module: WasmModule = loadSha256dModule()) {
    const instance = new wasm.Instance(module, {
      env: {
        abort: () => {
          throw new Error('sha256d kernel aborted');
        },
      },
    });
    this.exports = instance.exports as unknown as KernelExports;
  }

  private bytes(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  /**
   * Sets the header to mine (80 bytes as serialized; its nonce bytes 76..79 are ignored) and the target
   * (0 <= target < 2^256). Replaces any previous job.
   * @throws RangeError when the header is not 80 bytes or the target is out of range (caller bugs)
   */
  setJob(header80: Uint8Array, target: bigint): void {
    assertHeader(header80);
    if (target < 0n || target >= TWO_256) throw new RangeError(`target out of 256-bit range: ${target}`);
    this.bytes().set(header80, this.exports.headerPtr());
    const words = new DataView(this.exports.memory.buffer, this.exports.targetPtr(), 32);
    for (let i = 0; i < 8; i++) words.setUint32(4 * i, Number((target >> BigInt(32 * (7 - i))) & 0xffffffffn), true);
    this.exports.setJob();
    this.hasJob = true;
  }

  /**
   * The first nonce in [startNonce, startNonce + count) whose header hash is at or below the job's target, or null.
   * @throws RangeError when startNonce/count are not u32 integers, the range passes 2^32, or no job was set
   */
  scan(startNonce: number, count: number): number | null {
    this.assertJob();
    assertU32(startNonce, 'startNonce');
    if (!Number.isInteger(count) || count < 0 || startNonce + count > NONCE_SPACE) {
      throw new RangeError(`nonce range [${startNonce}, ${startNonce} + ${count}) leaves the 32-bit nonce space`);
    }
    if (count === 0) return null;
    const found = this.exports.scan(startNonce, count >>> 0);
    return found < 0n ? null : Number(found);
  }

  /**
   * The sha256d digests (internal byte order, as node:crypto returns them) of the job's header with nonces
   * startNonce .. startNonce + 3 (mod 2^32), one per SIMD lane: the same vector code scan() runs, for tests.
   * @throws RangeError when startNonce is not a u32 or no job was set
   */
  hashLanes(startNonce: number): Uint8Array[] {
    this.assertJob();
    assertU32(startNonce, 'startNonce');
    this.exports.hashLanes(startNonce);
    const out = this.exports.outPtr();
    return [0, 1, 2, 3].map((lane) => this.bytes().slice(out + 32 * lane, out + 32 * lane + 32));
  }

  /**
   * The sha256d digest of each 80-byte header (its own nonce) through the kernel's scalar path. Does not change the
   * job.
   * @throws RangeError when a header is not 80 bytes
   */
  hashHeaders(headers: readonly Uint8Array[]): Uint8Array[] {
    return headers.map((header80) => {
      assertHeader(header80);
      this.bytes().set(header80, this.exports.headerPtr());
      this.exports.hashHeader();
      const out = this.exports.outPtr();
      return this.bytes().slice(out, out + 32);
    });
  }

  private assertJob(): void {
    if (!this.hasJob) throw new RangeError('Sha256dKernel: setJob must be called first');
  }
}
