import { isP2trScript, isP2wpkhScript } from '../consensus/scriptType.js';
import { AddressError, addressToScriptPubKey } from '../crypto/address.js';
import type { ChainParams } from '../params/chainParams.js';

/**
 * The output script a block reward is paid to, from a payout address of the network (`--mining-address`, a Stratum
 * username): the address must carry the network's bech32 HRP and be P2WPKH (`0014<20>`) or P2TR (`5120<32>`), the two
 * spendable output types of cairn (DESIGN.md, Scripts).
 * @throws AddressError with the decoder's reason (`wrong-hrp`, `bad-checksum`, …) or `unsupported-payout` for another
 *   witness program (e.g. P2WSH)
 * @see Bitcoin Core rpc/mining.cpp generatetoaddress (DecodeDestination + GetScriptForDestination)
 */
export function payoutScriptFromAddress(address: string, params: ChainParams): Uint8Array {
  const script = addressToScriptPubKey(address, params.bech32Hrp);
  if (!isP2wpkhScript(script) && !isP2trScript(script)) {
    throw new AddressError('unsupported-payout', `${address} is neither P2WPKH nor P2TR`);
  }
  return script;
}
