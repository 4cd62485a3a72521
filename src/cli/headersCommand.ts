import type { Command } from 'commander';
import { verifyHeaderChain } from '../consensus/headerChain.js';
import { BLOCK_HEADER_SIZE, decodeBlockHeader } from '../primitives/blockHeader.js';
import { DecodeError } from '../primitives/decodeError.js';
import { hexToBytes } from '../primitives/hex.js';
import type { BlockHeader } from '../primitives/types.js';
import { networkOption } from './decodeCommands.js';
import { CliError, isHexText, readFileArg } from './input.js';

/**
 * Parses a headers file: raw 80-byte headers back to back, or one 160-digit hex header per line (blank lines ignored).
 * @throws CliError naming the line or offset of a malformed header
 */
export function parseHeadersFile(bytes: Uint8Array): BlockHeader[] {
  const headers: BlockHeader[] = [];
  if (isHexText(bytes)) {
    const lines = new TextDecoder().decode(bytes).split(/\r?\n/);
    for (const [i, raw] of lines.entries()) {
      const line = raw.trim();
      if (line === '') continue;
      if (line.length !== BLOCK_HEADER_SIZE * 2) {
        throw new CliError(`line ${i + 1}: expected ${BLOCK_HEADER_SIZE * 2} hex digits, got ${line.length}`);
      }
      headers.push(decodeBlockHeader(hexToBytes(line)));
    }
  } else {
    if (bytes.length % BLOCK_HEADER_SIZE !== 0) {
      throw new CliError(`raw headers file is ${bytes.length} bytes: not a multiple of ${BLOCK_HEADER_SIZE}`);
    }
    for (let off = 0; off < bytes.length; off += BLOCK_HEADER_SIZE) {
      try {
        headers.push(decodeBlockHeader(bytes.subarray(off, off + BLOCK_HEADER_SIZE)));
      } catch (err) {
        if (err instanceof DecodeError) throw new CliError(`header at byte ${off}: ${err.message}`);
        throw err;
      }
    }
  }
  if (headers.length === 0) throw new CliError('the headers file holds no headers');
  return headers;
}

/** Registers `cairn headers verify`. */
export function registerHeadersCommand(program: Command): void {
  const headers = program.command('headers').description('work with block header files');
  headers
    .command('verify')
    .description(
      'verify a header chain: linkage, proof of work and every difficulty value; prints {count, firstHeight, tipHeight, ' +
        'tipHash, chainWork, retargetsChecked, retargetsUnchecked}; exits 1 naming the height and reason on failure',
    )
    .argument('<file>', 'raw 80-byte headers back to back, or one hex header per line')
    .requiredOption('--chain <network>', 'rules to apply: main|test|devnet|regtest|bitcoin')
    .option('--start-height <H>', 'height of the first header in the file', '0')
    .action((file: string, opts: { chain: string; startHeight: string }) => {
      const params = networkOption(opts.chain);
      // Decimal digits only: Number() alone would take '', '0x10' and '1e2' as heights.
      const startHeight = /^\d+$/.test(opts.startHeight) ? Number(opts.startHeight) : NaN;
      if (!Number.isSafeInteger(startHeight)) {
        throw new CliError(`--start-height must be a non-negative integer, got '${opts.startHeight}'`);
      }
      const result = verifyHeaderChain(params, parseHeadersFile(readFileArg(file)), startHeight);
      if (!result.ok) {
        process.stdout.write(JSON.stringify({ ok: false, height: result.height, reason: result.reason, detail: result.detail }, null, 2) + '\n');
        throw new CliError(`header at height ${result.height} is invalid: ${result.reason}${result.detail ? ` (${result.detail})` : ''}`);
      }
      const out = {
        count: result.count,
        firstHeight: result.firstHeight,
        tipHeight: result.tipHeight,
        tipHash: result.tipHash,
        chainWork: result.chainWork.toString(16).padStart(64, '0'),
        retargetsChecked: result.retargetsChecked,
        retargetsUnchecked: result.retargetsUnchecked,
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}
