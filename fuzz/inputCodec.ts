/**
 * Serialization of fuzz inputs for crash files and for the worker's "current input" slot: JSON in which byte arrays
 * are `{"$bytes": "<hex>"}` and bigints `{"$bigint": "<decimal>"}`, so every input of every target (bytes, strings,
 * request objects) round-trips exactly.
 */

const BYTES_TAG = '$bytes';
const BIGINT_TAG = '$bigint';

/** Encodes an input as tagged JSON text. */
export function encodeInput(input: unknown): string {
  return JSON.stringify(input, function replacer(this: unknown, key: string, value: unknown) {
    // JSON.stringify has already called toJSON on `value`; typed arrays have none, so they arrive here intact.
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) return { [BYTES_TAG]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex') };
    if (typeof value === 'bigint') return { [BIGINT_TAG]: value.toString() };
    return value;
  });
}

/** Decodes tagged JSON text back into the input it was made from. */
export function decodeInput(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const record = value as Record<string, unknown>;
      if (keys.length === 1 && typeof record[BYTES_TAG] === 'string') return new Uint8Array(Buffer.from(record[BYTES_TAG], 'hex'));
      if (keys.length === 1 && typeof record[BIGINT_TAG] === 'string') return BigInt(record[BIGINT_TAG]);
    }
    return value;
  });
}
