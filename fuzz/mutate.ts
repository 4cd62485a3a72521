/**
 * Structure-aware mutators as fast-check arbitraries: they start from valid encodings (transactions, blocks, wire
 * messages, addresses, keystore JSON) and apply the edits a coverage-guided fuzzer finds useful — bit flips,
 * interesting byte values, truncations, deletions, insertions, duplicated ranges, splices of two valid inputs, and
 * corrupted length fields (compact sizes of every width, canonical or not, small or absurd). Mutations are plain data
 * (positions are naturals taken modulo the length), so fast-check can shrink a failing input towards the valid one.
 */
import fc from 'fast-check';

/** Byte values that sit on boundaries of the formats: compact-size prefixes, sign bits, 0 and 0xff. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff] as const;

/** Compact-size values around every boundary: widths, Core's MAX_SIZE (32 MiB), u32 and u64 limits. */
const INTERESTING_SIZES: readonly bigint[] = [
  0n, 1n, 2n, 16n, 80n, 101n, 0xfcn, 0xfdn, 0xffffn, 0x10000n, 0x2000000n, 0x2000001n, 0x7fffffffn, 0xffffffffn,
  0x100000000n, 0xffffffffffffffffn,
];

/** Little-endian u32 values that break arithmetic: 0, 1, sign bit, all ones. */
const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff] as const;

/** One edit of a byte string; positions are reduced modulo the current length. */
export type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number; readonly to: number }
  | { readonly kind: 'splice'; readonly at: number; readonly from: number }
  | { readonly kind: 'compactSize'; readonly at: number; readonly value: bigint; readonly width: 1 | 3 | 5 | 9; readonly overwrite: boolean }
  | { readonly kind: 'u32'; readonly at: number; readonly value: number };

const arbPos = fc.nat();

/** An arbitrary byte edit, weighted towards the small local ones. */
export const arbByteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: arbPos, bit: fc.integer({ min: 0, max: 7 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      at: arbPos,
      value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: arbPos }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: arbPos, length: fc.integer({ min: 1, max: 40 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), at: arbPos, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('duplicate' as const),
      at: arbPos,
      length: fc.integer({ min: 1, max: 120 }),
      to: arbPos,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: arbPos, from: arbPos }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('compactSize' as const),
      at: arbPos,
      value: fc.oneof(fc.constantFrom(...INTERESTING_SIZES), fc.bigInt({ min: 0n, max: 0xffffn })),
      width: fc.constantFrom(1 as const, 3 as const, 5 as const, 9 as const),
      overwrite: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('u32' as const), at: arbPos, value: fc.constantFrom(...INTERESTING_U32) }) },
);

/** The compact-size bytes of `value` in a forced width (1, 3, 5 or 9 bytes), canonical or not, as a fuzzer writes them. */
export function compactSizeBytes(value: bigint, width: 1 | 3 | 5 | 9): Uint8Array {
  const out = new Uint8Array(width);
  const view = new DataView(out.buffer);
  if (width === 1) out[0] = Number(value & 0xffn);
  else if (width === 3) {
    out[0] = 0xfd;
    view.setUint16(1, Number(value & 0xffffn), true);
  } else if (width === 5) {
    out[0] = 0xfe;
    view.setUint32(1, Number(value & 0xffffffffn), true);
  } else {
    out[0] = 0xff;
    view.setBigUint64(1, value & 0xffffffffffffffffn, true);
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Applies one edit; `other` is the second valid input that splices take their tail from. */
export function applyByteMutation(bytes: Uint8Array, m: ByteMutation, other: Uint8Array): Uint8Array {
  const n = bytes.length;
  const at = n === 0 ? 0 : m.at % (m.kind === 'insert' || m.kind === 'compactSize' || m.kind === 'truncate' ? n + 1 : n);
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'set': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[at] = m.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, at);
    case 'delete':
      return concat(bytes.subarray(0, at), bytes.subarray(at + m.length));
    case 'insert':
      return concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
    case 'duplicate': {
      if (n === 0) return bytes;
      const range = bytes.subarray(at, at + m.length);
      const to = m.to % (n + 1);
      return concat(bytes.subarray(0, to), range, bytes.subarray(to));
    }
    case 'splice':
      return concat(bytes.subarray(0, at), other.subarray(other.length === 0 ? 0 : m.from % other.length));
    case 'compactSize': {
      const field = compactSizeBytes(m.value, m.width);
      return concat(bytes.subarray(0, at), field, bytes.subarray(m.overwrite ? at + m.width : at));
    }
    case 'u32': {
      if (n < 4) return bytes;
      const out = bytes.slice();
      new DataView(out.buffer).setUint32(Math.min(at, n - 4), m.value, true);
      return out;
    }
  }
}

/** Options of mutatedBytes. */
export interface MutatedBytesOptions {
  /** Most edits stacked on one input (default 6). */
  readonly maxMutations?: number;
  /** Longest input produced; longer results are cut (default 16 KiB), so no input is unbounded. */
  readonly maxLength?: number;
  /** Longest purely random input (default 256). */
  readonly maxRandomLength?: number;
}

/**
 * Inputs for a byte decoder: mostly valid encodings from `valid` with 1..maxMutations edits, some left intact (so the
 * round-trip is exercised), some purely random bytes.
 */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>, options: MutatedBytesOptions = {}): fc.Arbitrary<Uint8Array> {
  const maxLength = options.maxLength ?? 16 * 1024;
  const mutated = fc
    .tuple(valid, valid, fc.array(arbByteMutation, { minLength: 1, maxLength: options.maxMutations ?? 6 }))
    .map(([bytes, other, edits]) => edits.reduce<Uint8Array>((b, m) => applyByteMutation(b, m, other), bytes));
  return fc
    .oneof(
      { weight: 2, arbitrary: valid },
      { weight: 12, arbitrary: mutated },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: options.maxRandomLength ?? 256 }) },
    )
    .map((b) => (b.length > maxLength ? b.subarray(0, maxLength) : b));
}

/** Characters that break text parsers: separators, case, controls, non-ASCII, lone surrogates. */
const INTERESTING_CHARS = ['1', '0', 'q', 'Q', 'b', 'B', ' ', '\t', '\n', '\0', '\x7f', '~', '!', 'é', 'ı', 'İ', 'ß', '\u212a', '\ud800', '\udfff', '😀', '%', '/', '.'];

/** One edit of a string; positions are reduced modulo the current length. */
type StringMutation =
  | { readonly kind: 'replace'; readonly at: number; readonly char: string }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'case'; readonly at: number; readonly all: boolean }
  | { readonly kind: 'swap'; readonly at: number }
  | { readonly kind: 'splice'; readonly at: number; readonly from: number }
  | { readonly kind: 'repeat'; readonly times: number };

/** Arbitrary single characters: from `alphabet` (the format's own characters), interesting ones, any code unit. */
function arbChar(alphabet: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...alphabet) },
    { weight: 2, arbitrary: fc.constantFrom(...INTERESTING_CHARS) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  );
}

function arbStringMutation(alphabet: string): fc.Arbitrary<StringMutation> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: arbPos, char: arbChar(alphabet) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('insert' as const),
        at: arbPos,
        text: fc.array(arbChar(alphabet), { minLength: 1, maxLength: 6 }).map((cs) => cs.join('')),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: arbPos, length: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: arbPos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('case' as const), at: arbPos, all: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap' as const), at: arbPos }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: arbPos, from: arbPos }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 4 }) }) },
  );
}

function flipCase(c: string): string {
  const upper = c.toUpperCase();
  return upper === c ? c.toLowerCase() : upper;
}

function applyStringMutation(s: string, m: StringMutation, other: string): string {
  const n = s.length;
  const at = n === 0 ? 0 : m.kind === 'repeat' ? 0 : m.at % (m.kind === 'insert' || m.kind === 'truncate' ? n + 1 : n);
  switch (m.kind) {
    case 'replace':
      return n === 0 ? m.char : s.slice(0, at) + m.char + s.slice(at + 1);
    case 'insert':
      return s.slice(0, at) + m.text + s.slice(at);
    case 'delete':
      return s.slice(0, at) + s.slice(at + m.length);
    case 'truncate':
      return s.slice(0, at);
    case 'case':
      return m.all ? flipCase(s) : s.slice(0, at) + flipCase(s.charAt(at)) + s.slice(at + 1);
    case 'swap':
      return n < 2 ? s : s.slice(0, Math.min(at, n - 2)) + s.charAt(Math.min(at, n - 2) + 1) + s.charAt(Math.min(at, n - 2)) + s.slice(Math.min(at, n - 2) + 2);
    case 'splice':
      return s.slice(0, at) + other.slice(other.length === 0 ? 0 : m.from % other.length);
    case 'repeat':
      return s.repeat(m.times);
  }
}

/** Options of mutatedString. */
export interface MutatedStringOptions {
  /** The format's own characters, preferred for replacements and insertions. */
  readonly alphabet: string;
  readonly maxMutations?: number;
  /** Longest string produced (default 4096). */
  readonly maxLength?: number;
}

/** Inputs for a text parser: valid strings from `valid`, mostly with 1..maxMutations character edits, some random. */
export function mutatedString(valid: fc.Arbitrary<string>, options: MutatedStringOptions): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 4096;
  const mutated = fc
    .tuple(valid, valid, fc.array(arbStringMutation(options.alphabet), { minLength: 1, maxLength: options.maxMutations ?? 4 }))
    .map(([s, other, edits]) => edits.reduce((acc, m) => applyStringMutation(acc, m, other), s));
  return fc
    .oneof(
      { weight: 2, arbitrary: valid },
      { weight: 12, arbitrary: mutated },
      { weight: 1, arbitrary: fc.string({ maxLength: 100, unit: 'binary' }) },
    )
    .map((s) => s.slice(0, maxLength));
}

/** Values that trip JSON consumers: wrong types, extremes, objects whose toString/valueOf are not functions. */
export const arbNastyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      null, true, false, 0, -0, -1, 1, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324,
      '', ' ', '0', '-1', '1e3', '0x10', 'null', 'true', '00', 'ff'.repeat(32), 'zz', '\u0000', '\ud800', 'é',
      [], [[]], {}, { toString: 1 }, { valueOf: 'x' }, { toString: null, valueOf: null }, JSON.parse('{"__proto__": {"a": 1}}') as unknown,
      { constructor: 1 }, { hasOwnProperty: 1 }, { length: 1e9 }, ['a', 1, null],
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 64, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
);

/** One edit of a JSON tree: `path` picks a node (each step a natural taken modulo the children). */
type JsonMutation =
  | { readonly kind: 'replace'; readonly path: readonly number[]; readonly value: unknown }
  | { readonly kind: 'delete'; readonly path: readonly number[] }
  | { readonly kind: 'add'; readonly path: readonly number[]; readonly key: string; readonly value: unknown };

const arbJsonKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'length', 'version', 'network', 'kdf', 'cipher', 'N', 'id', ''),
  fc.string({ maxLength: 12 }),
);

/** An arbitrary JSON tree edit. */
export const arbJsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), path: fc.array(fc.nat(), { maxLength: 4 }), value: arbNastyJson }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('add' as const), path: fc.array(fc.nat(), { maxLength: 3 }), key: arbJsonKey, value: arbNastyJson }),
  },
);

function childKeys(node: unknown): (string | number)[] {
  if (Array.isArray(node)) return node.map((_, i) => i);
  if (node !== null && typeof node === 'object') return Object.keys(node);
  return [];
}

function cloneJson(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

/**
 * Applies one edit to a copy of a JSON value: walks `path` (stopping early at a leaf) and replaces, deletes or adds
 * under the node reached. Keys like `__proto__` are set as own properties, as JSON.parse would make them.
 */
export function applyJsonMutation(root: unknown, m: JsonMutation): unknown {
  const copy = cloneJson(root);
  const path = m.path;
  if (m.kind === 'replace' && path.length === 0) return cloneJson(m.value);
  let parent: unknown = undefined;
  let key: string | number | undefined;
  let node: unknown = copy;
  for (const step of path) {
    const keys = childKeys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[step % keys.length]!;
    node = (node as Record<string | number, unknown>)[key];
  }
  if (m.kind === 'add') {
    const target = node !== null && typeof node === 'object' && !Array.isArray(node) ? node : parent;
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      Object.defineProperty(target, m.key, { value: cloneJson(m.value), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
  if (parent === undefined || key === undefined) return m.kind === 'replace' ? cloneJson(m.value) : copy;
  if (m.kind === 'replace') {
    Object.defineProperty(parent, key, { value: cloneJson(m.value), enumerable: true, writable: true, configurable: true });
  } else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete (parent as Record<string, unknown>)[key as string];
  return copy;
}

/** Options of mutatedJsonText. */
export interface MutatedJsonTextOptions {
  readonly maxMutations?: number;
  /** Longest text produced (default 64 KiB). */
  readonly maxLength?: number;
}

/**
 * Texts for a JSON document parser: valid documents from `valid` with tree edits (wrong types, missing and extra keys,
 * prototype-named keys), some with byte-level edits of the text on top, some intact.
 */
export function mutatedJsonText(valid: fc.Arbitrary<unknown>, options: MutatedJsonTextOptions = {}): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 64 * 1024;
  const treeEdited = fc
    .tuple(valid, fc.array(arbJsonMutation, { minLength: 1, maxLength: options.maxMutations ?? 3 }))
    .map(([doc, edits]) => JSON.stringify(edits.reduce((d, m) => applyJsonMutation(d, m), doc)) ?? 'undefined');
  const textEdited = fc
    .tuple(valid.map((d) => new TextEncoder().encode(JSON.stringify(d))), fc.array(arbByteMutation, { minLength: 1, maxLength: 3 }))
    .map(([bytes, edits]) => new TextDecoder().decode(edits.reduce<Uint8Array>((b, m) => applyByteMutation(b, m, bytes), bytes)));
  return fc
    .oneof(
      { weight: 1, arbitrary: valid.map((d) => JSON.stringify(d)) },
      { weight: 8, arbitrary: treeEdited },
      { weight: 3, arbitrary: textEdited },
    )
    .map((s) => s.slice(0, maxLength));
}
