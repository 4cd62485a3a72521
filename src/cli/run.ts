/** Executable entry of the `cairn` command: shims first, then the CLI; the exit code is the command's. */
import './shims.js';
import { runCli } from './main.js';

// `cairn … | head` closes the pipe early: that ends the output, it is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await runCli(process.argv.slice(2));
