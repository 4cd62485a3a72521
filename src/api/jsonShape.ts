/**
 * Deepest nesting of arrays and objects a JSON request body may have (Core's univalue MAX_JSON_DEPTH). No cairn
 * method takes anything nested deeper than a few levels; the limit keeps recursive code (reply formatting, argument
 * conversion) far from the call-stack limit and refuses `[[[[…` bombs before JSON.parse builds them.
 * @see Bitcoin Core univalue/lib/univalue_read.cpp MAX_JSON_DEPTH
 */
export const MAX_JSON_DEPTH = 512;

const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COMMA = 0x2c; // ,

/** What a pass over a JSON text found before it is parsed. */
export interface JsonShape {
  /** The text nests arrays/objects deeper than the limit (the scan stopped at the first bracket over it). */
  readonly tooDeep: boolean;
  /**
   * When the text is a top-level array: how many items it has (exact for valid JSON); undefined otherwise or when
   * tooDeep stopped the scan early.
   */
  readonly topLevelArrayItems: number | undefined;
}

function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Measures a JSON text without building it: whether it nests deeper than `maxDepth`, and how many items a top-level
 * array holds, so a server can refuse a bomb or an oversized batch before JSON.parse allocates it. Brackets and
 * commas inside strings do not count; the text need not be valid JSON (JSON.parse judges that afterwards).
 * PERF: one charCodeAt loop, about 30 ms for a 32 MiB body.
 */
export function inspectJsonShape(text: string, maxDepth: number = MAX_JSON_DEPTH): JsonShape {
  let depth = 0;
  let inString = false;
  let topIsArray: boolean | undefined;
  let commas = 0;
  let sawItem = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (depth === 1 && topIsArray === true && !sawItem && !isJsonWhitespace(c) && c !== CLOSE_BRACKET) sawItem = true;
    if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (depth === 0 && topIsArray === undefined) topIsArray = c === OPEN_BRACKET;
      if (++depth > maxDepth) return { tooDeep: true, topLevelArrayItems: undefined };
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    } else if (c === COMMA && depth === 1) {
      commas++;
    }
  }
  return { tooDeep: false, topLevelArrayItems: topIsArray === true ? (sawItem ? commas + 1 : 0) : undefined };
}
