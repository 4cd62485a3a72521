import type { RpcContext } from './rpcContext.js';
import { RPC_ERROR, RpcError } from './rpcError.js';

/**
 * Types of RPC arguments, as Core's RPCArg::Type: `string`, `hex` (a string of hex digits), `number`, `boolean`,
 * `object`, `array`, and `amount` (a number or a decimal string of coins).
 * @see Bitcoin Core rpc/util.h RPCArg::Type
 */
export type RpcArgType = 'string' | 'hex' | 'number' | 'boolean' | 'object' | 'array' | 'amount';

/** One argument of an RPC method, for type checks, named arguments and help. */
export interface RpcArgSpec {
  /** Name used for named arguments; `a|b` gives an alias (Core's "verbosity|verbose"). */
  readonly name: string;
  /** Expected type; with several types the handler checks the value itself (Core's skip_type_check). */
  readonly type: RpcArgType | readonly RpcArgType[];
  readonly optional?: boolean;
  /** Default shown in help (`default=…`). */
  readonly default?: string;
  readonly description: string;
  /** How the argument is shown in the signature line instead of the default rendering (objects, arrays). */
  readonly syntax?: string;
}

/** Help categories, as Core's (`help` lists them in alphabetical order). */
export type RpcCategory = 'blockchain' | 'control' | 'generating' | 'mining' | 'network' | 'rawtransactions' | 'util';

/**
 * A handler: gets the positional arguments (named arguments already mapped onto positions; a missing or null optional
 * argument is undefined) and returns the result, which the server serializes with formatCoreJson.
 * @throws RpcError for a reported failure; any other error becomes RPC_MISC_ERROR with its message
 */
export type RpcHandler = (args: readonly unknown[], ctx: RpcContext) => unknown;

/** One RPC method: its name, help and handler. */
export interface RpcMethodSpec {
  readonly name: string;
  readonly category: RpcCategory;
  /** Description paragraph of `help <method>` (first sentence = summary). */
  readonly description: string;
  readonly args: readonly RpcArgSpec[];
  /** The "Result:" section of `help <method>`. */
  readonly result: string;
  /** Example argument lists for `help <method>` (`> cairn rpc <method> <example>`). */
  readonly examples?: readonly string[];
  readonly handler: RpcHandler;
}

/** Core's uvTypeName of a JSON value. */
function jsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

/** JSON type a single-typed argument must have (Core's ExpectedType); undefined when anything goes (amount). */
function expectedJsonType(type: RpcArgType): string | undefined {
  switch (type) {
    case 'string':
    case 'hex':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    case 'object':
      return 'object';
    case 'array':
      return 'array';
    case 'amount':
      return undefined;
  }
}

/** Type names as Core's help prints them. */
function helpTypeName(type: RpcArgType | readonly RpcArgType[]): string {
  const one = (t: RpcArgType): string =>
    ({ string: 'string', hex: 'string', number: 'numeric', boolean: 'boolean', object: 'json object', array: 'json array', amount: 'numeric or string' })[t];
  return typeof type === 'string' ? one(type) : [...new Set(type.map(one))].join(' or ');
}

function argNames(arg: RpcArgSpec): string[] {
  return arg.name.split('|');
}

/** The argument as shown in the signature line: strings quoted, objects and arrays by their syntax. */
function signatureOf(arg: RpcArgSpec): string {
  if (arg.syntax !== undefined) return arg.syntax;
  const name = argNames(arg)[0]!;
  const type = typeof arg.type === 'string' ? arg.type : arg.type[0]!;
  return type === 'string' || type === 'hex' ? `"${name}"` : name;
}

/**
 * The method table of the JSON-RPC server: registration, named-argument mapping, argument count and type checks as
 * Core's RPCHelpMan, dispatch, and the `help` texts.
 * @see Bitcoin Core rpc/server.cpp CRPCTable, rpc/util.cpp RPCHelpMan::HandleRequest
 */
export class RpcTable {
  private readonly methods = new Map<string, RpcMethodSpec>();

  /** Adds a method. @throws Error when the name is taken (a programming error) */
  register(spec: RpcMethodSpec): void {
    if (this.methods.has(spec.name)) throw new Error(`RPC method ${spec.name} registered twice`);
    this.methods.set(spec.name, spec);
  }

  /** The method of that name, or undefined. */
  get(name: string): RpcMethodSpec | undefined {
    return this.methods.get(name);
  }

  /** Every method, by category then name (the order of `help`). */
  list(): RpcMethodSpec[] {
    return [...this.methods.values()].sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name));
  }

  /**
   * Runs a method: maps named arguments onto positions, checks the count (too few or too many → RPC_MISC_ERROR with the
   * method's help, as Core) and the types (RPC_TYPE_ERROR "Wrong type passed: …"), then calls the handler.
   * @throws RpcError METHOD_NOT_FOUND "Method not found" | INVALID_PARAMETER (unknown or repeated named argument) |
   *   MISC_ERROR | TYPE_ERROR, and whatever the handler throws
   */
  async execute(method: string, params: unknown, ctx: RpcContext): Promise<unknown> {
    const spec = this.methods.get(method);
    if (spec === undefined) throw new RpcError(RPC_ERROR.METHOD_NOT_FOUND, 'Method not found');
    const positional = Array.isArray(params) ? params : mapNamedArguments(spec, params as Record<string, unknown>);
    const required = spec.args.reduce((n, a, i) => (a.optional ? n : i + 1), 0);
    if (positional.length < required || positional.length > spec.args.length) {
      throw new RpcError(RPC_ERROR.MISC_ERROR, this.helpFor(spec));
    }
    const mismatches: Record<string, string> = {};
    spec.args.forEach((arg, i) => {
      const value: unknown = positional[i];
      if (arg.optional && (value === null || value === undefined)) return;
      // Several accepted types: the handler checks the value (Core's skip_type_check).
      if (typeof arg.type !== 'string') return;
      const expected = expectedJsonType(arg.type);
      if (expected !== undefined && jsonTypeName(value) !== expected) {
        mismatches[`Position ${i + 1} (${arg.name})`] = `JSON value of type ${jsonTypeName(value)} is not of expected type ${expected}`;
      }
    });
    if (Object.keys(mismatches).length > 0) {
      throw new RpcError(RPC_ERROR.TYPE_ERROR, `Wrong type passed:\n${JSON.stringify(mismatches, null, 4)}`);
    }
    const args = spec.args.map((_, i) => (positional[i] === null ? undefined : positional[i]));
    return await spec.handler(args, ctx);
  }

  /**
   * `help` without a method: every method's signature line under `== Category ==` headings. With a method: its full
   * help, or `help: unknown command: <name>` (a result, not an error, as Core).
   * @see Bitcoin Core rpc/server.cpp CRPCTable::help
   */
  help(method?: string): string {
    if (method !== undefined) {
      const spec = this.methods.get(method);
      return spec === undefined ? `help: unknown command: ${method}` : this.helpFor(spec);
    }
    const lines: string[] = [];
    let category: string | undefined;
    for (const spec of this.list()) {
      if (spec.category !== category) {
        if (category !== undefined) lines.push('');
        category = spec.category;
        lines.push(`== ${category[0]!.toUpperCase()}${category.slice(1)} ==`);
      }
      lines.push(signatureLine(spec));
    }
    return lines.join('\n');
  }

  private helpFor(spec: RpcMethodSpec): string {
    const parts = [signatureLine(spec), '', spec.description];
    if (spec.args.length > 0) {
      const width = Math.max(...spec.args.map((a) => argNames(a)[0]!.length)) + 4;
      parts.push('', 'Arguments:');
      spec.args.forEach((arg, i) => {
        const flags = [helpTypeName(arg.type), arg.optional ? 'optional' : 'required'];
        if (arg.default !== undefined) flags.push(`default=${arg.default}`);
        parts.push(`${i + 1}. ${argNames(arg)[0]!.padEnd(width)}(${flags.join(', ')}) ${arg.description}`);
      });
    }
    parts.push('', 'Result:', spec.result);
    const examples = spec.examples ?? [''];
    parts.push('', 'Examples:', ...examples.map((e) => `> cairn rpc ${spec.name}${e ? ' ' + e : ''}`));
    return parts.join('\n');
  }
}

/** The signature line: required arguments, then the optional ones in one pair of parentheses (Core's style). */
function signatureLine(spec: RpcMethodSpec): string {
  const required = spec.args.filter((a) => !a.optional).map(signatureOf);
  const optional = spec.args.filter((a) => a.optional).map(signatureOf);
  return [spec.name, ...required, ...(optional.length > 0 ? [`( ${optional.join(' ')} )`] : [])].join(' ');
}

/**
 * Maps named arguments onto positions: unspecified positions before a specified one become null, trailing ones are
 * left out.
 * @throws RpcError INVALID_PARAMETER "Unknown named parameter <name>"
 * @see Bitcoin Core rpc/server.cpp transformNamedArguments
 */
function mapNamedArguments(spec: RpcMethodSpec, named: Record<string, unknown>): unknown[] {
  const remaining = new Map(Object.entries(named));
  const out: unknown[] = [];
  let last = -1;
  spec.args.forEach((arg, i) => {
    const given = argNames(arg).filter((n) => remaining.has(n));
    if (given.length > 1) {
      throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `Parameter ${given[0]!} specified multiple times`);
    }
    const name = given[0];
    if (name === undefined) {
      out.push(null);
      return;
    }
    out.push(remaining.get(name));
    remaining.delete(name);
    last = i;
  });
  const unknown = remaining.keys().next();
  if (!unknown.done) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `Unknown named parameter ${unknown.value}`);
  return out.slice(0, last + 1);
}
