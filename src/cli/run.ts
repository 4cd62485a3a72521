/** Executable entry of the `cairn` command: shims first, then the CLI; the exit code is the command's. */
import './shims.js';
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2));
