import './shims.js';
import { Command, CommanderError } from 'commander';
import { registerDecodeCommands } from './decodeCommands.js';
import { registerDevnetCommand } from './devnetCommand.js';
import { registerElectCommand } from './electCommand.js';
import { registerExchangeCommand } from './exchangeCommand.js';
import { registerHeadersCommand } from './headersCommand.js';
import { registerLogCommands } from './logCollectorCommand.js';
import { CliError } from './input.js';
import { registerNodeCommand } from './nodeCommand.js';
import { registerMinerCommand } from './minerCommand.js';
import { registerRpcCommand } from './rpcCommand.js';
import { registerSimCommand } from './simCommand.js';
import { registerTxCommands } from './txVerifyCommand.js';
import { registerWalletCommand } from './walletCommand.js';
import { registerWalletServiceCommand } from './walletServiceCommand.js';
import { registerWebCommand } from './webCommand.js';

/** Builds the `cairn` command tree (commander). Exported for tests. */
export function buildProgram(): Command {
  const program = new Command('cairn')
    .description(
      'cairn: a proof-of-work cryptocurrency node on Bitcoin-compatible formats.\n' +
        'Networks: main, test, devnet, regtest (cairn) and bitcoin (Bitcoin mainnet rules, to check real data).',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDecodeCommands(program);
  registerHeadersCommand(program);
  registerTxCommands(program);
  registerNodeCommand(program);
  registerMinerCommand(program);
  registerRpcCommand(program);
  registerDevnetCommand(program);
  registerLogCommands(program);
  registerWalletCommand(program);
  registerWalletServiceCommand(program);
  registerExchangeCommand(program);
  registerWebCommand(program);
  registerElectCommand(program);
  registerSimCommand(program);
  return program;
}

/** Runs the CLI with the given arguments (without node and script); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" with exit code 0 in commander's exitOverride mode
      return err.exitCode;
    }
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 70;
  }
}
