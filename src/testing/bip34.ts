/**
 * Reads the BIP-34 height back out of a coinbase scriptSig (OP_0, OP_1..OP_16, or a push of a little-endian script
 * number), for tests that check what an assembler wrote. Written separately from the encoder on purpose.
 */
export function decodeBip34Height(scriptSig: Uint8Array): number {
  const op = scriptSig[0];
  if (op === undefined) throw new Error('empty scriptSig');
  if (op === 0x00) return 0;
  if (op >= 0x51 && op <= 0x60) return op - 0x50;
  if (op < 1 || op > 8 || scriptSig.length < 1 + op) throw new Error(`not a height push: opcode ${op}`);
  let n = 0;
  for (let i = op; i >= 1; i--) n = n * 256 + scriptSig[i]!;
  return n;
}
