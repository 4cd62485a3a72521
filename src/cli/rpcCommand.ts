import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { cookiePathOf } from '../api/rpc/rpcCookie.js';
import { buildRpcTable } from '../api/rpc/rpcMethods.js';
import type { RpcArgSpec } from '../api/rpc/rpcTable.js';
import { networkOption } from './decodeCommands.js';
import { defaultDatadir } from './datadir.js';
import { CliError } from './input.js';
import { JsonNumberText, parseJsonText, writeJsonText, type JsonTextValue } from './jsonText.js';

/** Flags of `cairn rpc`. */
interface RpcFlags {
  network: string;
  rpcconnect: string;
  rpcport?: string;
  rpcuser?: string;
  rpcpassword?: string;
  datadir?: string;
  named?: boolean;
  rpcclienttimeout: string;
}

/** Where and how to call the node. */
export interface RpcClientOptions {
  readonly host: string;
  readonly port: number;
  /** `user:password` for Basic auth. */
  readonly userPass: string;
  readonly timeoutMs: number;
}

/** The outcome of one call: the text to print, where, and the exit code (bitcoin-cli's conventions). */
export interface RpcCallOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/**
 * Converts one command-line parameter: arguments the method declares as strings stay strings; anything else is taken
 * as JSON when it parses (numbers, true/false, null, objects, arrays) and as a string otherwise.
 * @see Bitcoin Core rpc/client.cpp RPCConvertValues (a fixed table there; cairn reads the method table)
 */
export function convertRpcParam(text: string, arg: RpcArgSpec | undefined): unknown {
  if (arg !== undefined && (arg.type === 'string' || arg.type === 'hex')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Builds the params of a call from the command line: positional, or with `named` key=value pairs (converted by the
 * argument of that name).
 * @throws CliError for a named parameter without '='
 */
export function buildRpcParams(method: string, texts: readonly string[], named: boolean): unknown[] | Record<string, unknown> {
  const spec = buildRpcTable().get(method);
  if (!named) return texts.map((t, i) => convertRpcParam(t, spec?.args[i]));
  const params: Record<string, unknown> = {};
  for (const text of texts) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new CliError(`named parameter '${text}' is not of the form name=value`);
    const name = text.slice(0, eq);
    const arg = spec?.args.find((a) => a.name.split('|').includes(name));
    params[name] = convertRpcParam(text.slice(eq + 1), arg);
  }
  return params;
}

/**
 * Reads `user:password` from `<datadir>/.cookie`.
 * @throws CliError when there is no cookie (Core's "Could not locate RPC credentials")
 */
export function readCookie(datadir: string): string {
  try {
    return readFileSync(cookiePathOf(datadir), 'utf8').trim();
  } catch {
    throw new CliError(
      `Could not locate RPC credentials. No authentication cookie could be found (${cookiePathOf(datadir)}), ` +
        'and RPC password is not set. See --rpcuser/--rpcpassword, or --datadir of the running node.',
    );
  }
}

/**
 * Calls one method on a node's JSON-RPC server and renders the reply as bitcoin-cli does: a string result raw, null
 * as nothing, other results as indented JSON with amounts as sent; an RPC error as `error code: N` / `error message:`
 * on stderr with exit code |N| (the shell sees it modulo 256).
 * @see Bitcoin Core bitcoin-cli.cpp CommandLineRPC, ParseError
 */
export async function callRpc(client: RpcClientOptions, method: string, params: unknown): Promise<RpcCallOutput> {
  const host = client.host.includes(':') ? `[${client.host}]` : client.host;
  let response: Response;
  try {
    response = await fetch(`http://${host}:${client.port}/`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(client.userPass).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
      signal: AbortSignal.timeout(client.timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return {
      stdout: '',
      stderr: timedOut
        ? `error: timeout on transient error: no reply from ${client.host}:${client.port} within ${client.timeoutMs / 1000} s\n`
        : `error: Could not connect to the server ${client.host}:${client.port}\n\n` +
          'Make sure the cairn node is running and that you are connecting to the correct RPC port.\n' +
          'Use "cairn rpc --help" for more info.\n',
      exitCode: 1,
    };
  }
  if (response.status === 401) {
    return { stdout: '', stderr: 'error: Authorization failed: Incorrect rpcuser or rpcpassword\n', exitCode: 1 };
  }
  const text = await response.text();
  let reply: JsonTextValue;
  try {
    reply = parseJsonText(text);
  } catch {
    return { stdout: '', stderr: `error: server returned HTTP error ${response.status}\n`, exitCode: 1 };
  }
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply) || reply instanceof JsonNumberText) {
    return { stdout: '', stderr: 'error: no response from server\n', exitCode: 1 };
  }
  const error = reply['error'];
  if (error !== undefined && error !== null) {
    if (typeof error === 'object' && !Array.isArray(error) && !(error instanceof JsonNumberText)) {
      const code = error['code'];
      const message = error['message'];
      const codeNumber = code instanceof JsonNumberText ? Number(code.text) : NaN;
      let out = code instanceof JsonNumberText ? `error code: ${code.text}\n` : '';
      if (typeof message === 'string') out += `error message:\n${message}`;
      // bitcoin-cli exits with |code|; the operating system keeps its low 8 bits.
      const exitCode = Number.isInteger(codeNumber) ? Math.abs(codeNumber) & 0xff || 1 : 1;
      return { stdout: '', stderr: `${out}\n`, exitCode };
    }
    return { stdout: '', stderr: `error: ${writeJsonText(error, 0)}\n`, exitCode: 1 };
  }
  const result = reply['result'] ?? null;
  if (result === null) return { stdout: '', stderr: '', exitCode: 0 };
  return { stdout: `${typeof result === 'string' ? result : writeJsonText(result, 2)}\n`, stderr: '', exitCode: 0 };
}

/** Registers `cairn rpc`, the bitcoin-cli of cairn. */
export function registerRpcCommand(program: Command): void {
  program
    .command('rpc')
    .description(
      'call a JSON-RPC method of a running node (as bitcoin-cli): parameters are JSON when they parse (numbers, ' +
        'true/false, objects, arrays) unless the method takes a string there; `cairn rpc help` lists the methods',
    )
    .argument('<method>', 'RPC method, e.g. getblockcount, getblock, help')
    .argument('[params...]', 'its parameters (with --named: name=value pairs)')
    .option('--network <name>', 'main | test | devnet | regtest: default port and data dir', 'main')
    .option('--rpcconnect <host>', 'node to connect to', '127.0.0.1')
    .option('--rpcport <port>', 'RPC port (default: the network default)')
    .option('--rpcuser <user>', 'RPC user name (default: cookie authentication)')
    .option('--rpcpassword <password>', 'RPC password')
    .option('--datadir <dir>', 'data directory holding the .cookie file (default ~/.cairn/<network>)')
    .option('--named', 'pass named parameters (name=value) instead of positional ones')
    .option('--rpcclienttimeout <sec>', 'seconds to wait for a reply (0 = no limit)', '900')
    .action(async (method: string, texts: string[], flags: RpcFlags) => {
      const params = networkOption(flags.network);
      let port = params.defaultPorts.rpc;
      if (flags.rpcport !== undefined) {
        if (!/^\d+$/.test(flags.rpcport) || Number(flags.rpcport) < 1 || Number(flags.rpcport) > 65535) {
          throw new CliError(`--rpcport must be a port number 1..65535, got '${flags.rpcport}'`);
        }
        port = Number(flags.rpcport);
      }
      if (!/^\d+$/.test(flags.rpcclienttimeout)) {
        throw new CliError(`--rpcclienttimeout must be a whole number of seconds, got '${flags.rpcclienttimeout}'`);
      }
      const timeoutSec = Number(flags.rpcclienttimeout);
      const userPass =
        flags.rpcpassword !== undefined
          ? `${flags.rpcuser ?? ''}:${flags.rpcpassword}`
          : readCookie(flags.datadir ?? defaultDatadir(params.name));
      const out = await callRpc(
        // 0 = no limit: a day is as good as forever for one call and keeps AbortSignal.timeout in range.
        { host: flags.rpcconnect, port, userPass, timeoutMs: (timeoutSec === 0 ? 86_400 : timeoutSec) * 1000 },
        method,
        buildRpcParams(method, texts, flags.named === true),
      );
      process.stdout.write(out.stdout);
      process.stderr.write(out.stderr);
      if (out.exitCode !== 0) process.exitCode = out.exitCode;
    });
}
