/**
 * The registry of fuzz targets: name → module and export. `npm run fuzz` runs them all in this order.
 */
import type { TargetRef } from '../workerProtocol.js';

function ref(file: string, exportName = 'default'): TargetRef {
  return { moduleUrl: new URL(`./${file}.ts`, import.meta.url).href, exportName };
}

/** Every target, by name. */
export const TARGETS: Readonly<Record<string, TargetRef>> = Object.freeze({
  tx: ref('tx'),
  block: ref('block'),
  header: ref('header'),
  address: ref('address'),
  keystore: ref('keystore'),
  'wire-status': ref('wire', 'statusTarget'),
  'wire-headers-request': ref('wire', 'headersRequestTarget'),
  'wire-headers': ref('wire', 'headersTarget'),
  'wire-blocks-request': ref('wire', 'blocksRequestTarget'),
  'wire-response-chunk': ref('wire', 'responseChunkTarget'),
  stratum: ref('stratum'),
  rest: ref('rest'),
  websocket: ref('websocket'),
  rpc: ref('rpc'),
  'exchange-gateway': ref('exchangeGateway'),
  web: ref('web'),
  'elect-message': ref('electMessage'),
  'liabilities-proof': ref('liabilitiesProof'),
});

/** Names of every target, in run order. */
export const TARGET_NAMES: readonly string[] = Object.keys(TARGETS);
