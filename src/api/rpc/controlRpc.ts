import type { RpcTable } from './rpcTable.js';

/** Registers help, stop, uptime and getrpcinfo. */
export function registerControlRpc(table: RpcTable): void {
  table.register({
    name: 'help',
    category: 'control',
    description: 'List all commands, or get help for a specified command.',
    args: [{ name: 'command', type: 'string', optional: true, default: 'all commands', description: 'The command to get help on' }],
    result: '"str"    (string) The help text',
    examples: ['', '"getblock"'],
    handler: ([command], ctx) => ctx.help(command === undefined ? undefined : String(command)),
  });

  table.register({
    name: 'stop',
    category: 'control',
    description: 'Request a graceful shutdown of cairn.',
    args: [],
    result: '"str"    (string) A string with the content \'cairn server stopping\'',
    handler: (_args, ctx) => {
      // After this reply is on its way: the shutdown closes this very server.
      setImmediate(() => ctx.node.requestShutdown());
      return 'cairn server stopping';
    },
  });

  table.register({
    name: 'uptime',
    category: 'control',
    description: 'Returns the total uptime of the server.',
    args: [],
    result: 'n    (numeric) The number of seconds that the server has been running',
    handler: (_args, ctx) => Math.max(0, ctx.node.nowSec() - ctx.node.startedAtSec),
  });

  table.register({
    name: 'getrpcinfo',
    category: 'control',
    description: 'Returns details of the RPC server (cairn has no debug.log path to show: its logs are NDJSON files under <datadir>/logs/).',
    args: [],
    result:
      '{\n  "active_commands" : [ (json array) All active commands\n    { "method" : "str", (string) The name of the RPC command\n' +
      '      "duration" : n } (numeric) The running time in microseconds\n  ]\n}',
    handler: (_args, ctx) => {
      const now = performance.now();
      return {
        active_commands: ctx.activeCommands().map((c) => ({ method: c.method, duration: Math.round((now - c.startedMs) * 1000) })),
      };
    },
  });
}
