/**
 * `cairn sim` on a real terminal: the CLI runs in a tmux pseudo-terminal (its own tmux server on a private socket),
 * keys are sent as a user types them, and every step waits for the screen to show the prompt it needs (an active
 * @inquirer/prompts question starts its line with `?`, an answered one with `✔`). Two users, a name refused by the
 * field's validation, 100 blocks so alice's first coinbase matures, a payment to bob, a block by bob, an overdraft
 * refused; then the users' status and one chain for both, and the menu's quit ends the process with exit code 0.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { waitFor } from '../src/testing/waitFor.js';

/** The sim menu's items in order (simShell.ts MENU): the select prompt starts on the first one each time. */
const MENU = ['create user', 'make a transaction', "users' status", 'show chains', 'mine now'] as const;
const QUIT_INDEX = 11;
const STEP_TIMEOUT_MS = 20_000;

/** What a test does with the terminal: read it, wait on it, type, answer a question, pick a menu item or a user. */
interface MenuDriver {
  screen(): string;
  see(what: string, re: RegExp): Promise<string>;
  keys(...k: string[]): void;
  answer(message: string, text: string): Promise<void>;
  choose(index: number): Promise<void>;
  pickUser(message: string, index: number): Promise<void>;
}

/**
 * Starts `cairn sim` in a tmux pane of `socket`'s own server (200×50, the pane kept after exit with the exit code
 * printed) and returns the helpers that read the screen, wait on it and type; the server is killed after the test.
 */
function startMenu(t: TestContext, seed: string): MenuDriver {
  const socket = `cairn-sim-menu-${process.pid}-${seed}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  const command = `${process.execPath} --import tsx src/cli/run.ts sim --seed ${seed} --latency-ms 500; echo "sim exited with code $?"`;
  tmux('new-session', '-d', '-s', 'sim', '-x', '200', '-y', '50', '-c', process.cwd(), command, ';', 'set-option', '-t', 'sim', 'remain-on-exit', 'on');
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      // the server is gone already
    }
  });
  /** The whole pane: scroll-back and screen, wrapped lines joined. */
  const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', 'sim');
  const see = (what: string, re: RegExp): Promise<string> => waitFor(what, () => (re.test(screen()) ? screen() : undefined), STEP_TIMEOUT_MS);
  const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'sim', ...k);
  /** Waits for the active prompt `message`, then types `text` (literally) and Enter. */
  const answer = async (message: string, text: string): Promise<void> => {
    await see(`the prompt '${message}'`, new RegExp(`^\\? ${message}`, 'm'));
    if (text !== '') keys('-l', text);
    keys('Enter');
    await see(`'${message}' answered`, new RegExp(`^✔ ${message}`, 'm'));
  };
  let menuAnswers = 0;
  /** Waits for the menu, moves down to item `index` and selects it. */
  const choose = async (index: number): Promise<void> => {
    await see('the menu', /^\? what next\?/m);
    for (let i = 0; i < index; i++) keys('Down');
    keys('Enter');
    menuAnswers += 1;
    await waitFor(`menu answer ${menuAnswers}`, () => (screen().match(/^✔ what next\?/gm) ?? []).length === menuAnswers, STEP_TIMEOUT_MS);
  };
  /** Picks a user in the users' select (users in creation order). */
  const pickUser = async (message: string, index: number): Promise<void> => {
    await see(`the user prompt '${message}'`, new RegExp(`^\\? ${message}`, 'm'));
    for (let i = 0; i < index; i++) keys('Down');
    keys('Enter');
    await see(`'${message}' answered`, new RegExp(`^✔ ${message}`, 'm'));
  };
  return { screen, see, keys, answer, choose, pickUser };
}

describe('cairn sim menu on a terminal', () => {
  it('creates two users, mines, pays, refuses an overdraft, shows the status and one chain, quits', async (t) => {
    const { see, keys, answer, choose, pickUser } = startMenu(t, 'menu-test');
    await see('the banner and the menu', /^cairn sim — every user is a real cairn node[\s\S]*^\? what next\?[\s\S]*create user[\s\S]*make a transaction/m);

    await choose(MENU.indexOf('create user'));
    await see('the name prompt', /^\? name/m);
    keys('-l', 'al ice');
    keys('Enter');
    await see('the name refused by validation', /a name is 1–32 letters, digits, _ or -/);
    keys('C-u');
    keys('-l', 'alice');
    keys('Enter');
    await answer('hash share \\(weight\\)', '1');
    await see('alice created', /^created alice \(node 0\) address rcrn1\w+, peers 0, height 0$/m);

    await choose(MENU.indexOf('create user'));
    await answer('name', 'bob');
    await answer('hash share \\(weight\\)', '');
    await see('bob created', /^created bob \(node 1\) address rcrn1\w+, peers 1, height 0$/m);

    await choose(MENU.indexOf('mine now'));
    await pickUser('miner', 0);
    await answer('blocks', '100');
    await see('alice mined 100 blocks', /^alice mined 100 block\(s\); its tip is height 100 \w{6}$/m);

    await choose(MENU.indexOf('make a transaction'));
    await pickUser('from', 0);
    await answer('to \\(user name or address\\)', 'bob');
    await answer('amount \\(coins\\)', '12.5');
    await see('the payment', /^sent 12\.5 from alice to bob: txid [0-9a-f]{64} \(in 2 mempools/m);

    await choose(MENU.indexOf('mine now'));
    await pickUser('miner', 1);
    await answer('blocks', '');
    await see('bob mined a block', /^bob mined 1 block\(s\); its tip is height 101 \w{6}$/m);

    await choose(MENU.indexOf('make a transaction'));
    await pickUser('from', 1);
    await answer('to \\(user name or address\\)', 'alice');
    await answer('amount \\(coins\\)', '20');
    await see('the overdraft refused', /^refused: insufficient-funds: bob has 1250000000 spendable sats/m);

    await choose(MENU.indexOf("users' status"));
    // alice: 2 mature coinbases (100) − 12.5 − 0.00001 fee; 98 immature. bob: 12.5 received, his coinbase + fee immature.
    const status = await see('the status table', /^bob +101 +\w{6} +12\.5 +50\.00001 /m);
    assert.match(status, /^user +height +tip +balance +immature +pending +peers +mempool +hash$/m);
    assert.match(status, /^alice +101 +\w{6} +87\.49999 +4900 /m);

    await choose(MENU.indexOf('show chains'));
    const chains = await see('the chains', /^getchaintips:\n(?:.*\n){2}/m);
    const row = chains.split('\n').find((l) => /^101 /.test(l));
    assert.ok(row, 'a row for height 101');
    const cells = row.trim().split(/\s+/).slice(1);
    assert.equal(cells.length, 2, row);
    assert.ok(cells.every((c) => c === cells[0] && c.endsWith('(bob)*')), row);
    assert.equal((chains.match(/^(alice|bob): 101:\w{6} active$/gm) ?? []).length, 2);

    await choose(QUIT_INDEX);
    await see('the process exited with code 0', /^sim exited with code 0$/m);
  });

  it('Ctrl-C at a question ends the shell as quit does (exit code 0, no stack)', async (t) => {
    const { screen, see, keys, choose } = startMenu(t, 'menu-ctrl-c');
    await choose(MENU.indexOf('create user'));
    await see('the name prompt', /^\? name/m);
    keys('C-c');
    await see('the process exited with code 0', /^sim exited with code 0$/m);
    assert.doesNotMatch(screen(), /Error|at .*\.ts:\d+/);
  });
});
