/**
 * Questions asked on the terminal: a hidden line (passwords, mnemonics: nothing is echoed) and a visible yes/no
 * confirmation. Prompts go to stderr so that stdout stays clean for `--json`; answers come from stdin, which must be a
 * TTY (callers check isInteractive first and refuse with a reason otherwise).
 */
import { createInterface } from 'node:readline';
import { CliError } from './input.js';

/** True when stdin is a terminal a question can be asked on. */
export function isInteractive(): boolean {
  return process.stdin.isTTY === true;
}

/**
 * Reads one line from the terminal without echoing it (raw mode): Enter ends it, Backspace deletes a character,
 * Ctrl-C aborts, other control characters are ignored. The answer is never written anywhere.
 * @throws CliError exit code 130 on Ctrl-C; exit code 1 when stdin is not a terminal or closes first
 */
export function readHiddenLine(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY !== true) return Promise.reject(new CliError('cannot prompt: stdin is not a terminal'));
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (err: CliError | undefined): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      const text = chars.join('');
      chars = [];
      if (err !== undefined) reject(err);
      else resolve(text);
    };
    const onEnd = (): void => finish(new CliError('cannot prompt: the terminal closed'));
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(undefined);
        if (ch === '\u0003') return finish(new CliError('interrupted', 130));
        if (ch === '\u007f' || ch === '\b') chars.pop();
        else if (ch >= ' ') chars.push(ch);
      }
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
  });
}

/**
 * Asks a yes/no question on the terminal; true only for an answer starting with y or Y (the default is no).
 * @throws CliError when stdin is not a terminal
 */
export async function confirmOnTerminal(question: string): Promise<boolean> {
  if (!isInteractive()) throw new CliError('cannot ask for confirmation: stdin is not a terminal (pass --yes)');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
