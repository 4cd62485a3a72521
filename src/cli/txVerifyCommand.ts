import type { Command } from 'commander';
import { verifyInput } from '../consensus/verifyInput.js';
import { DecodeError } from '../primitives/decodeError.js';
import { hexToBytes } from '../primitives/hex.js';
import { decodeTx } from '../primitives/tx.js';
import type { TxOut } from '../primitives/types.js';
import { CliError, readHexOrFileArg, readJsonOrFileArg } from './input.js';

/** Result line of one input, as `cairn tx verify` prints it. */
export interface InputVerificationJson {
  index: number;
  type: string;
  valid: boolean;
  reason: string | null;
}

/**
 * Parses the `--prevouts` JSON: an array, in input order, of {"value": base units (integer or decimal string),
 * "scriptPubKey": hex}.
 * @throws CliError naming the entry and field that is wrong
 */
export function parsePrevouts(json: unknown): TxOut[] {
  if (!Array.isArray(json)) throw new CliError('--prevouts must be a JSON array of {"value", "scriptPubKey"}');
  return json.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw new CliError(`prevouts[${i}] must be an object`);
    const { value, scriptPubKey } = entry as { value?: unknown; scriptPubKey?: unknown };
    let sats: bigint;
    if (typeof value === 'number' && Number.isSafeInteger(value)) sats = BigInt(value);
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) sats = BigInt(value);
    else throw new CliError(`prevouts[${i}].value must be an integer number of base units`);
    if (typeof scriptPubKey !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(scriptPubKey)) {
      throw new CliError(`prevouts[${i}].scriptPubKey must be hex`);
    }
    return { value: sats, scriptPubKey: hexToBytes(scriptPubKey) };
  });
}

/** Verifies every input of the transaction against its prevout; one entry per input. */
export function verifyTxInputsJson(txBytes: Uint8Array, prevouts: TxOut[]): InputVerificationJson[] {
  let tx;
  try {
    tx = decodeTx(txBytes);
  } catch (err) {
    if (err instanceof DecodeError) throw new CliError(`cannot decode transaction: ${err.message}`);
    throw err;
  }
  if (prevouts.length !== tx.inputs.length) {
    throw new CliError(`the transaction has ${tx.inputs.length} inputs but ${prevouts.length} prevouts were given`);
  }
  return tx.inputs.map((_input, index) => {
    const r = verifyInput(tx, index, prevouts);
    return { index, type: r.type, valid: r.valid, reason: r.valid ? null : (r.reason ?? 'invalid') };
  });
}

/** Registers `cairn tx verify`. */
export function registerTxCommands(program: Command): void {
  const tx = program.command('tx').description('work with transactions');
  tx.command('verify')
    .description(
      'verify each input of a signed transaction (P2WPKH with BIP-143, P2TR key path with BIP-341); prints one ' +
        '{index, type, valid, reason} per input and exits 0 only if every input is valid',
    )
    .argument('<txhex|@file>', 'signed transaction as hex, or @path to a file')
    .requiredOption('--prevouts <json|@file>', 'JSON array, in input order, of {"value": base units, "scriptPubKey": hex}')
    .action((txArg: string, opts: { prevouts: string }) => {
      const results = verifyTxInputsJson(readHexOrFileArg(txArg), parsePrevouts(readJsonOrFileArg(opts.prevouts)));
      process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      if (!results.every((r) => r.valid)) process.exitCode = 1;
    });
}
