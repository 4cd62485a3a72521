/** Executable entry of the `cairn` command: shims first, then the CLI; the exit code is the command's. */
import './shims.js';
import { watchSupervisor } from '../supervisor/supervisorLink.js';

// A command started by a cairn supervisor (a devnet's node, log collector, wallet service, …) stops as on Ctrl-C when
// that supervisor goes away. Watched before the CLI loads, so a supervisor gone during start-up is noticed at once.
watchSupervisor();

// `cairn … | head` closes the pipe early: that ends the output, it is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const { runCli } = await import('./main.js');
process.exitCode = await runCli(process.argv.slice(2));
