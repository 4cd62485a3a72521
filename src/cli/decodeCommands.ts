import type { Command } from 'commander';
import { blockToCoreJson, formatCoreJson, txToCoreJson } from '../api/coreJson.js';
import { computeBlockMerkleRoot } from '../consensus/merkle.js';
import { checkProofOfWork } from '../consensus/pow.js';
import { checkWitnessCommitment } from '../consensus/witnessCommitment.js';
import { getNetworkParams, NETWORK_NAMES } from '../params/networks.js';
import type { ChainParams } from '../params/chainParams.js';
import { decodeBlock } from '../primitives/block.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { DecodeError } from '../primitives/decodeError.js';
import { bytesEqual } from '../primitives/hex.js';
import { decodeTx } from '../primitives/tx.js';
import { CliError, readHexOrFileArg } from './input.js';

/** Maps `--network` onto params, with a clear error for unknown names. */
export function networkOption(name: string): ChainParams {
  try {
    return getNetworkParams(name);
  } catch {
    throw new CliError(`unknown network '${name}': expected one of ${NETWORK_NAMES.join(', ')}`);
  }
}

function decodeOrFail<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof DecodeError) throw new CliError(`cannot decode ${what}: ${err.message}`);
    throw err;
  }
}

/**
 * Decodes a block and reports it as Core's `getblock <hash> 2`, plus `check`: merkle root matches the header,
 * witness commitment (null when the block has no witness data to commit), and proof of work against the network's powLimit.
 */
export function decodeBlockJson(bytes: Uint8Array, params: ChainParams): Record<string, unknown> {
  const block = decodeOrFail('block', () => decodeBlock(bytes));
  const merkle = computeBlockMerkleRoot(block);
  return {
    ...blockToCoreJson(block, params),
    check: {
      merkleRoot: bytesEqual(merkle.root, block.header.merkleRoot) && !merkle.mutated,
      witnessCommitment: checkWitnessCommitment(block),
      pow: checkProofOfWork(computeBlockHash(block.header), block.header.bits, params.powLimit),
    },
  };
}

/** Decodes a transaction and reports it as Core's `decoderawtransaction`. */
export function decodeTxJson(bytes: Uint8Array, params: ChainParams): Record<string, unknown> {
  const tx = decodeOrFail('transaction', () => decodeTx(bytes));
  return txToCoreJson(tx, params);
}

/** Registers `cairn decode block|tx`. */
export function registerDecodeCommands(program: Command): void {
  const decode = program.command('decode').description('decode raw blocks and transactions to JSON shaped like Bitcoin Core RPC output');
  decode
    .command('block')
    .description("decode a raw block (hex, or @file holding hex or raw bytes) like Core's `getblock <hash> 2`, with merkle, witness-commitment and PoW checks")
    .argument('<hex|@file>', 'block as hex, or @path to a file with hex or raw bytes')
    .option('--network <name>', `network whose address prefix and powLimit apply (${NETWORK_NAMES.join('|')})`, 'main')
    .action((input: string, opts: { network: string }) => {
      const params = networkOption(opts.network);
      process.stdout.write(formatCoreJson(decodeBlockJson(readHexOrFileArg(input), params)) + '\n');
    });
  decode
    .command('tx')
    .description("decode a raw transaction like Core's `decoderawtransaction`")
    .argument('<hex|@file>', 'transaction as hex, or @path to a file with hex or raw bytes')
    .option('--network <name>', `network whose address prefix applies (${NETWORK_NAMES.join('|')})`, 'main')
    .action((input: string, opts: { network: string }) => {
      const params = networkOption(opts.network);
      process.stdout.write(formatCoreJson(decodeTxJson(readHexOrFileArg(input), params)) + '\n');
    });
}
