/**
 * The `cairn sim` shell's io on a terminal: a real menu and validated fields with @inquirer/prompts (select for the
 * menu and for picking a user, input with validation for names, addresses and amounts, number with bounds for hash
 * shares, block counts, seconds and latency). Ctrl-C (or the terminal closing) ends the shell as end of input does.
 */
import { input, number, select } from '@inquirer/prompts';
import type { AskSpec, ShellIo } from '../sim/simShell.js';

/** Menu rows shown at once: the whole sim menu (12 items) fits, so it never scrolls. */
const MENU_PAGE_SIZE = 12;

/** True for the errors @inquirer/prompts throws when the user aborts (Ctrl-C) or the terminal goes away. */
function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError');
}

async function askWith(spec: AskSpec): Promise<string> {
  switch (spec.kind) {
    case 'choice':
      return select({
        message: spec.message,
        choices: spec.choices.map((c) => ({ value: c.value, name: c.label })),
        pageSize: MENU_PAGE_SIZE,
        loop: false,
      });
    case 'text':
      return input({
        message: spec.message,
        required: spec.default === undefined,
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        ...(spec.validate ? { validate: (t: string) => spec.validate!(t) } : {}),
      });
    case 'number': {
      const v = await number({ message: spec.message, default: spec.default, min: spec.min, max: spec.max, step: spec.integer ? 1 : 'any', required: true });
      return String(v);
    }
  }
}

/**
 * A ShellIo on the terminal with @inquirer/prompts. Questions asked without a spec fall back to a free-text input.
 * `ask` resolves undefined when the user presses Ctrl-C (the shell then closes its simulation and quits).
 */
export function inquirerShellIo(): ShellIo {
  return {
    menu: true,
    print: (text) => process.stdout.write(text),
    ask: async (question, spec) => {
      try {
        return await askWith(spec ?? { kind: 'text', message: question.replace(/[:>]\s*$/, '') });
      } catch (err) {
        if (isAbort(err)) return undefined;
        throw err;
      }
    },
  };
}
