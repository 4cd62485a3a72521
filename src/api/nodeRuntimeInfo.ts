import type { NodeRuntimeInfo } from '../interfaces/nodeRuntimeInfo.js';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Name of the file a running node writes in its data dir. */
export const NODE_RUNTIME_FILE = 'node.json';

/** Path of node.json in a data dir. */
export function nodeRuntimeFile(datadir: string): string {
  return join(datadir, NODE_RUNTIME_FILE);
}

/** Writes node.json atomically (temp file + rename). */
export function writeNodeRuntimeInfo(datadir: string, info: NodeRuntimeInfo): void {
  const file = nodeRuntimeFile(datadir);
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** Removes node.json (at a clean stop). */
export function removeNodeRuntimeInfo(datadir: string): void {
  rmSync(nodeRuntimeFile(datadir), { force: true });
}

/** The node.json of a data dir, or undefined when there is none or it cannot be parsed (being written). */
export function readNodeRuntimeInfo(datadir: string): NodeRuntimeInfo | undefined {
  const file = nodeRuntimeFile(datadir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as NodeRuntimeInfo;
  } catch {
    return undefined;
  }
}
