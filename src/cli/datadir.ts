import { homedir } from 'node:os';
import { join } from 'node:path';

/** Default data directory of a network: ~/.cairn/<network> (as Core's ~/.bitcoin/<chain>). */
export function defaultDatadir(network: string): string {
  return join(homedir(), '.cairn', network);
}
