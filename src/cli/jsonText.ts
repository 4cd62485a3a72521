/**
 * JSON that keeps number literals as written, so `cairn rpc` prints amounts as the node sent them (`50.00000000`, not
 * `50`), the way bitcoin-cli's UniValue does.
 */

/** A JSON number kept as its source text. */
export class JsonNumberText {
  constructor(readonly text: string) {}
}

/** A JSON value whose numbers are JsonNumberText. */
export type JsonTextValue = null | boolean | string | JsonNumberText | JsonTextValue[] | { [key: string]: JsonTextValue };

/**
 * Parses JSON text, keeping every number's literal text.
 * @throws SyntaxError on malformed JSON
 */
export function parseJsonText(text: string): JsonTextValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${at}`);
  };
  const skipSpace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const value = (): JsonTextValue => {
    skipSpace();
    const c = text[at];
    if (c === '{') {
      at++;
      const obj: { [key: string]: JsonTextValue } = {};
      skipSpace();
      if (text[at] === '}') {
        at++;
        return obj;
      }
      for (;;) {
        skipSpace();
        if (text[at] !== '"') fail('expected a string key');
        const key = stringLiteral();
        skipSpace();
        if (text[at] !== ':') fail("expected ':'");
        at++;
        Object.defineProperty(obj, key, { value: value(), enumerable: true, writable: true, configurable: true });
        skipSpace();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      at++;
      const arr: JsonTextValue[] = [];
      skipSpace();
      if (text[at] === ']') {
        at++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        skipSpace();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return stringLiteral();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return v;
      }
    }
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    if (match === null) return fail('unexpected character');
    at += match[0].length;
    return new JsonNumberText(match[0]);
  };
  const stringLiteral = (): string => {
    const start = at;
    at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) fail('unterminated string');
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const result = value();
  skipSpace();
  if (at !== text.length) fail('unexpected text after the JSON value');
  return result;
}

/**
 * Writes a value as UniValue's write(indent) does: `"key": value`, one member per line, empty arrays and objects as
 * `[` / `]` on two lines (as bitcoin-cli prints an empty getpeerinfo).
 * @see Bitcoin Core univalue/lib/univalue_write.cpp
 */
export function writeJsonText(value: JsonTextValue, indent = 2, level = 0): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof JsonNumberText) return value.text;
  const pad = (n: number): string => ' '.repeat(indent * n);
  if (Array.isArray(value)) {
    const items = value.map((v) => pad(level + 1) + writeJsonText(v, indent, level + 1));
    return `[\n${items.join(',\n')}${items.length > 0 ? '\n' : ''}${pad(level)}]`;
  }
  const members = Object.entries(value).map(
    ([k, v]) => `${pad(level + 1)}${JSON.stringify(k)}: ${writeJsonText(v, indent, level + 1)}`,
  );
  return `{\n${members.join(',\n')}${members.length > 0 ? '\n' : ''}${pad(level)}}`;
}
