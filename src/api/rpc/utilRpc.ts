import { AddressError, addressToScriptPubKey, decodeSegwitAddress } from '../../crypto/address.js';
import { bytesToHex } from '../../primitives/hex.js';
import { CoreAmount } from '../coreJson.js';
import { parseIntArg } from './rpcArgs.js';
import { RPC_ERROR, RpcError } from './rpcError.js';
import type { RpcTable } from './rpcTable.js';

/** Core's default highest confirmation target of the fee estimator (1008 blocks). */
const MAX_CONF_TARGET = 1008;
const ESTIMATE_MODES = ['unset', 'economical', 'conservative'];

/**
 * Why an address does not decode, in the words of Core's DecodeDestination (segwit addresses only: cairn has no
 * Base58 addresses).
 * @see Bitcoin Core key_io.cpp DecodeDestination, bech32.cpp LocateErrors
 */
export function describeAddressError(address: string, hrp: string, err: AddressError): string {
  const lower = address.toLowerCase();
  const sep = lower.lastIndexOf('1');
  switch (err.code) {
    case 'wrong-hrp':
      return `Invalid or unsupported prefix for Segwit (Bech32) address (expected ${hrp}, got ${lower.slice(0, sep)}).`;
    case 'wrong-encoding':
      return /v0 /.test(err.message) || /witness v0/.test(err.message)
        ? 'Version 0 witness address must use Bech32 checksum'
        : 'Version 1+ witness address must use Bech32m checksum';
    case 'empty-data':
      return 'Empty Bech32 data section';
    case 'bad-witness-version':
      return 'Invalid Bech32 address witness version';
    case 'bad-padding':
      return 'Invalid padding in Bech32 data section';
    case 'bad-program-length': {
      const n = /of (\d+) bytes/.exec(err.message)?.[1] ?? '?';
      const unit = n === '1' ? 'byte' : 'bytes';
      return /v0 /.test(err.message)
        ? `Invalid Bech32 v0 address program size (${n} ${unit}), per BIP141`
        : `Invalid Bech32 address program size (${n} ${unit})`;
    }
    case 'bad-checksum':
      return 'Invalid Bech32 checksum';
    case 'mixed-case':
    case 'bad-char':
      return 'Invalid character or mixed case';
    case 'too-long':
      return 'Bech32 string too long';
    default:
      return 'Invalid or unsupported Segwit (Bech32) or Base58 encoding.';
  }
}

/** Registers validateaddress and estimatesmartfee. */
export function registerUtilRpc(table: RpcTable): void {
  table.register({
    name: 'validateaddress',
    category: 'util',
    description: 'Return information about the given cairn address.',
    args: [{ name: 'address', type: 'string', description: 'The address to validate' }],
    result:
      'valid: { "isvalid": true, "address", "scriptPubKey", "isscript", "iswitness", "witness_version", "witness_program" }\n' +
      'invalid: { "isvalid": false, "error_locations": [n], "error": str }',
    examples: ['"rcrn1q…"'],
    handler: ([addressArg], ctx) => {
      const address = String(addressArg);
      const hrp = ctx.node.params.bech32Hrp;
      try {
        const { witnessVersion, program } = decodeSegwitAddress(address, hrp);
        const script = addressToScriptPubKey(address, hrp);
        // Core: key hashes are not scripts; script hashes and taproot outputs are; unknown versions say nothing.
        const isscript = witnessVersion === 0 ? program.length === 32 : witnessVersion === 1 && program.length === 32 ? true : undefined;
        return {
          isvalid: true,
          address: address.toLowerCase(),
          scriptPubKey: bytesToHex(script),
          ...(isscript !== undefined ? { isscript } : {}),
          iswitness: true,
          witness_version: witnessVersion,
          witness_program: bytesToHex(program),
        };
      } catch (err) {
        if (!(err instanceof AddressError)) throw err;
        return { isvalid: false, error_locations: [], error: describeAddressError(address, hrp, err) };
      }
    },
  });

  table.register({
    name: 'estimatesmartfee',
    category: 'util',
    description:
      'Estimates the approximate fee per kilobyte needed for a transaction to begin confirmation within conf_target ' +
      'blocks if possible and return the number of blocks for which the estimate is valid.\n' +
      'cairn estimates from the mempool: the fee rate found conf_target blocks deep in ancestor-fee-rate order, at ' +
      'least the mempool minimum and the minimum relay fee.',
    args: [
      { name: 'conf_target', type: 'number', description: `Confirmation target in blocks (1 - ${MAX_CONF_TARGET})` },
      { name: 'estimate_mode', type: 'string', optional: true, default: 'economical', description: 'The fee estimate mode (accepted for compatibility): "unset", "economical", "conservative"' },
    ],
    result: '{ "feerate": n (coins/kvB), "blocks": n }',
    examples: ['6', '6 "economical"'],
    handler: ([confTargetArg, modeArg], ctx) => {
      const message = `Invalid conf_target, must be between 1 and ${MAX_CONF_TARGET}`;
      const target = parseIntArg(confTargetArg, 'conf_target', 1, MAX_CONF_TARGET, message);
      if (modeArg !== undefined && !ESTIMATE_MODES.includes(String(modeArg).toLowerCase())) {
        throw new RpcError(
          RPC_ERROR.INVALID_PARAMETER,
          'Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"',
        );
      }
      const satPerVb = ctx.node.mempool.estimateFeeRates([target]).get(target)!;
      return { feerate: new CoreAmount(BigInt(Math.ceil(satPerVb * 1000))), blocks: target };
    },
  });
}
