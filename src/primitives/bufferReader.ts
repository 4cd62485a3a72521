import { DecodeError } from './decodeError.js';

/**
 * Bitcoin's largest serialized vector length (Core's MAX_SIZE, 32 MiB): compact sizes above it are refused.
 * @see Bitcoin Core serialize.h MAX_SIZE
 */
export const MAX_COMPACT_SIZE = 0x02000000;

/**
 * Sequential little-endian reader over a byte array, as Bitcoin serializes. Every read checks bounds and throws
 * DecodeError (never RangeError or anything else) when the bytes run out or a value is non-canonical.
 * @see Bitcoin Core serialize.h (ReadCompactSize, ser_readdata*)
 */
export class BufferReader {
  private readonly view: DataView;
  /** Current read position in bytes. */
  offset = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number): void {
    if (n > this.remaining) throw new DecodeError('unexpected-end', this.offset, `need ${n} bytes, have ${this.remaining}`);
  }

  /** @throws DecodeError unexpected-end */
  readU8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  /** @throws DecodeError unexpected-end */
  readU16LE(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  /** @throws DecodeError unexpected-end */
  readU32LE(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  /** @throws DecodeError unexpected-end */
  readI32LE(): number {
    this.need(4);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }

  /** Unsigned 64-bit little-endian integer. @throws DecodeError unexpected-end */
  readU64LE(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }

  /** Signed 64-bit little-endian integer (Bitcoin's CAmount). @throws DecodeError unexpected-end */
  readI64LE(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    return v;
  }

  /**
   * Reads `n` bytes as a view into the input (no copy; callers that keep it past the input's life should slice).
   * @throws DecodeError unexpected-end
   */
  readBytes(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /**
   * Reads a compact-size integer, refusing non-canonical encodings and values above MAX_COMPACT_SIZE.
   * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large
   * @see Bitcoin Core serialize.h ReadCompactSize (range_check = true)
   */
  readCompactSize(): number {
    const start = this.offset;
    const first = this.readU8();
    let value: number;
    if (first < 0xfd) {
      value = first;
    } else if (first === 0xfd) {
      value = this.readU16LE();
      if (value < 0xfd) throw new DecodeError('non-canonical-compact-size', start);
    } else if (first === 0xfe) {
      value = this.readU32LE();
      if (value < 0x10000) throw new DecodeError('non-canonical-compact-size', start);
    } else {
      const big = this.readU64LE();
      if (big < 0x100000000n) throw new DecodeError('non-canonical-compact-size', start);
      throw new DecodeError('size-too-large', start, `compact size ${big}`);
    }
    if (value > MAX_COMPACT_SIZE) throw new DecodeError('size-too-large', start, `compact size ${value}`);
    return value;
  }

  /**
   * Reads a compact-size length followed by that many bytes.
   * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large
   */
  readVarBytes(): Uint8Array {
    const n = this.readCompactSize();
    return this.readBytes(n);
  }

  /**
   * Reads a compact-size element count and checks that at least `minElementSize` bytes per element remain,
   * so hostile counts cannot make the decoder allocate huge arrays.
   * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large
   */
  readCount(minElementSize: number): number {
    const start = this.offset;
    const n = this.readCompactSize();
    if (n * minElementSize > this.remaining) {
      throw new DecodeError('unexpected-end', start, `count ${n} exceeds remaining bytes`);
    }
    return n;
  }

  /** @throws DecodeError trailing-bytes if any input is left unread. */
  assertEnd(): void {
    if (this.remaining !== 0) throw new DecodeError('trailing-bytes', this.offset, `${this.remaining} bytes left`);
  }
}
