/**
 * Little-endian byte writer for Bitcoin serialization. Callers usually know the exact size in advance (getSize),
 * so the writer allocates once; it grows if the estimate was short.
 * @see Bitcoin Core serialize.h (WriteCompactSize, ser_writedata*)
 */
export class BufferWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. */
  offset = 0;

  constructor(sizeHint = 256) {
    this.buf = new Uint8Array(Math.max(16, sizeHint));
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.offset + n));
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  writeU8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.offset, v);
    this.offset += 1;
    return this;
  }

  writeU16LE(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.offset, v, true);
    this.offset += 2;
    return this;
  }

  writeU32LE(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }

  writeI32LE(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.offset, v | 0, true);
    this.offset += 4;
    return this;
  }

  writeU64LE(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.offset, BigInt.asUintN(64, v), true);
    this.offset += 8;
    return this;
  }

  /** Signed 64-bit (Bitcoin's CAmount). */
  writeI64LE(v: bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.offset, BigInt.asIntN(64, v), true);
    this.offset += 8;
    return this;
  }

  writeBytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  /** @see Bitcoin Core serialize.h WriteCompactSize */
  writeCompactSize(n: number): this {
    if (n < 0xfd) return this.writeU8(n);
    if (n <= 0xffff) return this.writeU8(0xfd).writeU16LE(n);
    if (n <= 0xffffffff) return this.writeU8(0xfe).writeU32LE(n);
    return this.writeU8(0xff).writeU64LE(BigInt(n));
  }

  /** Compact-size length followed by the bytes. */
  writeVarBytes(b: Uint8Array): this {
    return this.writeCompactSize(b.length).writeBytes(b);
  }

  /** The written bytes (a copy-free view when the size hint was exact). */
  finish(): Uint8Array {
    return this.offset === this.buf.length ? this.buf : this.buf.slice(0, this.offset);
  }
}

/** Serialized size of a compact-size integer: 1, 3, 5 or 9 bytes. */
export function compactSizeLength(n: number): number {
  if (n < 0xfd) return 1;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffffff) return 5;
  return 9;
}
