/**
 * `cairn wallet`: the non-custodial HD wallet on the command line. Keys stay in an encrypted keystore file
 * (scrypt + AES-256-GCM, mode 0600) and transactions are signed in this process; the node is only asked for chain data
 * and to relay, through its Esplora REST API (so any Esplora-compatible server works).
 *
 * Subcommands: create, restore, info, address, balance, utxos, send, bump-fee, history, broadcast. Common flags (every
 * subcommand takes them, so one flag set serves a script): `--wallet <file>` (default
 * `<defaultDatadir(network)>/wallet.json`), `--node <url>` (default `http://127.0.0.1:<api port of the network>/api`),
 * `--network` (default: the wallet file's, else main), `--json`, `--yes`, `--password-file <file>`.
 * A keystore file that group or others can read is tightened to 0600 with ssh's warning on stderr. A payment paying
 * more than 10,000 sat/vB or 0.10 coin of fee is refused as a likely mistake unless `--allow-high-fee`. The password comes from --password-file, else CAIRN_WALLET_PASSWORD, else a prompt on
 * the terminal without echo; without any of them the command refuses. No secret is printed unless asked for: the
 * mnemonic once at `create`, and at `info --show-mnemonic`.
 * @see Bitcoin Core wallet RPCs (getbalances, listunspent, listtransactions, getnewaddress, send, bumpfee); Electrum's CLI
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { formatCoins, MAX_MONEY } from '../consensus/amount.js';
import { getNetworkParams, NETWORK_NAMES } from '../params/networks.js';
import type { ChainParams } from '../params/chainParams.js';
import { bytesToHex, hashToHex } from '../primitives/hex.js';
import type { Sats } from '../primitives/types.js';
import { HdAccount, mnemonicToWalletSeed } from '../wallet/hdAccount.js';
import {
  createKeystore,
  openKeystore,
  parseKeystoreFile,
  protectKeystoreFile,
  type KeystoreFile,
  type UnlockedKeystore,
} from '../wallet/keystore.js';
import { EsploraClient } from '../wallet/nodeClient.js';
import { Wallet, type SignedBump, type SignedTx } from '../wallet/wallet.js';
import { WalletError } from '../wallet/walletError.js';
import { defaultDatadir } from './datadir.js';
import { CliError, parseCoinsArg, readHexOrFileArg } from './input.js';
import { confirmOnTerminal, isInteractive, readHiddenLine } from './prompt.js';

/** Environment variable a script can pass the wallet password in. */
export const PASSWORD_ENV = 'CAIRN_WALLET_PASSWORD';

/** Flags every `cairn wallet` subcommand takes. */
interface CommonFlags {
  wallet?: string;
  node?: string;
  network?: string;
  json?: boolean;
  /** Answer yes to every question (the confirmation before a broadcast); commands that ask nothing accept it too. */
  yes?: boolean;
  passwordFile?: string;
}

/** Where the wallet file is, which network it is for, and which node to ask. */
export interface WalletTarget {
  readonly params: ChainParams;
  readonly walletPath: string;
  readonly nodeUrl: string;
}

/** Default keystore path of a network: `~/.cairn/<network>/wallet.json`. */
export function defaultWalletPath(network: string): string {
  return join(defaultDatadir(network), 'wallet.json');
}

/** Default node URL of a network: its Esplora REST API on loopback at the network's default API port. */
export function defaultNodeUrl(params: ChainParams): string {
  return `http://127.0.0.1:${params.defaultPorts.api}/api`;
}

function paramsOf(name: string): ChainParams {
  try {
    return getNetworkParams(name);
  } catch {
    throw new CliError(`unknown network '${name}': expected one of ${NETWORK_NAMES.join(', ')}`);
  }
}

/**
 * ssh's warning for a private key file others can read, with what cairn did about it (written to stderr, so --json
 * output stays clean).
 */
export function formatUnprotectedKeystoreWarning(path: string, modeBefore: number, tightened: boolean, error?: string): string {
  const octal = modeBefore.toString(8).padStart(4, '0');
  return [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    `Permissions ${octal} for '${path}' are too open.`,
    'It is required that your wallet file is NOT accessible by others.',
    tightened
      ? `cairn changed them to 0600 (owner read/write only). The encrypted seed may have been copied while they were ${octal}.`
      : `cairn could not change them (${error ?? 'unknown error'}): run chmod 600 '${path}'.`,
  ].join('\n');
}

/** Reads a keystore's public header (no password needed). @throws CliError when the file is not a keystore */
function readKeystoreHeader(path: string): KeystoreFile {
  if (existsSync(path)) {
    const fixed = protectKeystoreFile(path);
    if (fixed !== undefined) process.stderr.write(`${formatUnprotectedKeystoreWarning(path, fixed.modeBefore, fixed.tightened, fixed.error)}\n`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw noWalletError(path);
    throw new CliError(`cannot read the wallet file ${path}: ${code ?? String(e)}`);
  }
  try {
    return parseKeystoreFile(text);
  } catch (e) {
    throw new CliError(`${path} is not a usable wallet file: ${(e as Error).message}`);
  }
}

function noWalletError(path: string): CliError {
  return new CliError(`no wallet file at ${path}: create one with 'cairn wallet create' or 'cairn wallet restore', or point --wallet at yours`);
}

/**
 * Resolves the network, keystore path and node URL from the flags: an existing --wallet file decides the network
 * (a different --network is an error); otherwise --network (default main) decides it and the default path.
 * @throws CliError unknown network | network mismatch | unreadable or malformed wallet file | bad --node URL
 */
export function resolveWalletTarget(flags: CommonFlags, purpose: 'existing' | 'new' | 'any'): WalletTarget {
  let params = flags.network !== undefined ? paramsOf(flags.network) : undefined;
  const walletPath = flags.wallet ?? defaultWalletPath(params?.name ?? 'main');
  if (purpose === 'new') {
    if (existsSync(walletPath)) {
      throw new CliError(`${walletPath} already exists: not overwriting a wallet (choose another --wallet, or move that file away first)`);
    }
  } else if (purpose === 'existing' || existsSync(walletPath)) {
    const header = readKeystoreHeader(walletPath);
    if (params !== undefined && params.name !== header.network) {
      throw new CliError(`${walletPath} is a ${header.network} wallet, not ${params.name} (drop --network or pick the right --wallet)`);
    }
    params = paramsOf(header.network);
  }
  params ??= paramsOf('main');
  const nodeUrl = flags.node ?? defaultNodeUrl(params);
  let url: URL;
  try {
    url = new URL(nodeUrl);
  } catch {
    throw new CliError(`--node '${nodeUrl}' is not a URL (expected e.g. ${defaultNodeUrl(params)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--node must be an http(s) URL, got '${nodeUrl}'`);
  return { params, walletPath, nodeUrl };
}

/**
 * Parses an amount given on the command line into sats: coins with up to 8 decimals ("1.5", "0.00001"), or whole
 * sats when `inSats`. Must be positive and at most MAX_MONEY.
 * @throws CliError with the accepted forms
 */
export function parseAmount(text: string, inSats: boolean): Sats {
  if (!inSats) return parseCoinsArg(text, 'amount');
  if (!/^\d{1,16}$/.test(text)) throw new CliError(`amount '${text}' is not a whole number of sats`);
  const sats = BigInt(text);
  if (sats <= 0n) throw new CliError('the amount must be more than zero');
  if (sats > MAX_MONEY) throw new CliError(`amount ${formatCoins(sats)} is more than the 21,000,000 coins that can exist`);
  return sats;
}

/**
 * Parses a fee rate flag in sat/vB (may be fractional, e.g. 1.5); at most 100,000 sat/vB as a guard against typos.
 * @throws CliError
 */
export function parseFeeRate(text: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) throw new CliError(`--fee-rate '${text}' is not a number of sat/vB (e.g. 2 or 1.5)`);
  const rate = Number(text);
  if (!(rate > 0)) throw new CliError('--fee-rate must be more than 0 sat/vB');
  if (rate > 100_000) throw new CliError(`--fee-rate ${text} sat/vB is absurdly high (limit 100000)`);
  return rate;
}

/** A password file's content less one trailing line break (as `echo pw > file` writes it). */
export function passwordFromFileText(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/**
 * The wallet password: --password-file, else $CAIRN_WALLET_PASSWORD, else asked on the terminal without echo (twice
 * when `confirm`, for a new wallet).
 * @throws CliError when there is no source (no file, no variable, no terminal), when the file is unreadable, when the
 *   password is empty or the two entries differ
 */
export async function obtainPassword(flags: CommonFlags, confirm: boolean): Promise<string> {
  let password: string;
  if (flags.passwordFile !== undefined) {
    try {
      password = passwordFromFileText(readFileSync(flags.passwordFile, 'utf8'));
    } catch (e) {
      throw new CliError(`cannot read --password-file ${flags.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (password.length === 0) throw new CliError(`--password-file ${flags.passwordFile} is empty`);
    return password;
  }
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!isInteractive()) {
    throw new CliError(`no wallet password: give --password-file <file> or set ${PASSWORD_ENV} (stdin is not a terminal to ask on)`);
  }
  password = await readHiddenLine(confirm ? 'New wallet password: ' : 'Wallet password: ');
  if (password.length === 0) throw new CliError('the password must not be empty');
  if (confirm && (await readHiddenLine('Repeat the password: ')) !== password) throw new CliError('the two passwords differ');
  return password;
}

/** The BIP-39 passphrase of create/restore: the flag's value, asked on the terminal for a bare --passphrase, or ''. */
async function obtainPassphrase(flag: string | boolean | undefined): Promise<string> {
  if (flag === undefined || flag === false) return '';
  if (typeof flag === 'string') return flag;
  if (!isInteractive()) throw new CliError('--passphrase without a value asks on the terminal, but stdin is not one: give --passphrase "<words>"');
  return readHiddenLine('BIP-39 passphrase (optional extra words; the seed depends on it): ');
}

/** The node's reject reason inside an Esplora broadcast error ("sendrawtransaction RPC error: {code, message}"). */
export function extractRejectReason(message: string): string {
  const json = /\{.*\}\s*$/.exec(message);
  if (json !== null) {
    try {
      const parsed = JSON.parse(json[0]) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not the JSON form: fall through to the raw text
    }
  }
  return message.replace(/^HTTP \d+ from \/tx:\s*/, '');
}

/** Turns a WalletError into the CLI's error with a reason a user can act on. */
export function walletErrorToCliError(e: WalletError, target: WalletTarget): CliError {
  switch (e.code) {
    case 'wrong-password':
      return new CliError(`wrong password for ${target.walletPath}`);
    case 'keystore-io':
      return existsSync(target.walletPath) ? new CliError(e.message) : noWalletError(target.walletPath);
    case 'corrupt-keystore':
      return new CliError(`${target.walletPath} is not a usable wallet file: ${e.message}`);
    case 'network-error':
    case 'timeout':
      return new CliError(
        `node unreachable at ${target.nodeUrl}: ${e.message}\n` +
          `Is 'cairn node --network ${target.params.name}' running? Point --node at its REST API (…/api) otherwise.`,
      );
    case 'insufficient-funds':
      return new CliError(
        `insufficient funds: ${e.shortfallSats !== undefined ? `${formatCoins(e.shortfallSats)} more needed for the amount and the fee` : e.message}` +
          ' (only confirmed coins, mature coinbases and own unconfirmed change can be spent)',
      );
    case 'bad-address':
      return new CliError(`invalid address: ${e.message} (${target.params.name} addresses start with ${target.params.bech32Hrp}1)`);
    case 'bad-mnemonic':
      return new CliError(`invalid mnemonic: ${e.message}`);
    case 'fee-too-high':
      return new CliError(`${e.message}; pass --allow-high-fee to pay it`);
    case 'not-found':
      return new CliError(`not found on the node: ${e.message}`);
    case 'http-error':
    case 'bad-response':
      return new CliError(`node error: ${e.message}`);
    default:
      return new CliError(e.message);
  }
}

/** Runs a subcommand body, mapping WalletErrors to CLI errors. */
async function withTarget<T>(target: WalletTarget, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof WalletError) throw walletErrorToCliError(e, target);
    throw e;
  }
}

function clientOf(target: WalletTarget): EsploraClient {
  return new EsploraClient({ baseUrl: target.nodeUrl, timeoutMs: 30_000 });
}

/** Opens the keystore with the password and returns the wallet (not yet synced). */
async function openWallet(flags: CommonFlags, target: WalletTarget): Promise<{ wallet: Wallet; client: EsploraClient }> {
  const password = await obtainPassword(flags, false);
  const client = clientOf(target);
  const wallet = await Wallet.open(target.walletPath, password, { params: target.params }, { client });
  return { wallet, client };
}

/**
 * Broadcasts a signed tx; the node's refusal becomes a CliError with its reject reason. `allowHighFee` lifts the
 * node's fee-rate ceiling (maxfeerate=0).
 */
async function broadcastHex(client: EsploraClient, hex: string, expectedTxid: string | undefined, allowHighFee: boolean): Promise<string> {
  let txid: string;
  try {
    txid = await client.broadcast(hex, allowHighFee ? { maxFeeRateSatPerKvb: 0n } : {});
  } catch (e) {
    if (e instanceof WalletError && e.code === 'http-error') {
      const reason = extractRejectReason(e.message);
      const hint = /maxfeerate/.test(reason) ? ' (pass --allow-high-fee to pay that fee)' : '';
      throw new CliError(`the node rejected the transaction: ${reason}${hint}`);
    }
    throw e;
  }
  if (expectedTxid !== undefined && txid !== expectedTxid) throw new CliError(`the node answered txid ${txid} for ${expectedTxid}`);
  return txid;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function firstReceiveAddress(keystore: UnlockedKeystore): string {
  return HdAccount.fromSeed(keystore.computeSeed(), keystore.params, 'p2wpkh', 0).deriveAddress(0, 0).address;
}

/** The mnemonic as numbered words, four a line. */
function formatMnemonic(mnemonic: string): string {
  const words = mnemonic.split(' ');
  const width = Math.max(...words.map((w) => w.length));
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 4) {
    lines.push(
      words
        .slice(i, i + 4)
        .map((w, k) => `${String(i + k + 1).padStart(2)}. ${w.padEnd(width)}`)
        .join('  ')
        .trimEnd(),
    );
  }
  return lines.map((l) => `  ${l}`).join('\n');
}

/** Where a tx stands, for people: "unconfirmed" or "3 confirmations (block 120)". */
function describeStatus(status: { confirmed: boolean; blockHeight?: number }, tipHeight: number): string {
  if (!status.confirmed || status.blockHeight === undefined) return 'unconfirmed';
  const confs = tipHeight - status.blockHeight + 1;
  return `${confs} confirmation${confs === 1 ? '' : 's'} (block ${status.blockHeight})`;
}

function paymentSummary(signed: SignedTx, to: string, amountSats: Sats): string {
  return [
    `pay      ${formatCoins(amountSats)} to ${to}`,
    `fee      ${formatCoins(signed.feeSats)} (${signed.feeSats} sats, ${signed.feeRateSatPerVb.toFixed(2)} sat/vB, ${signed.vsize} vB)`,
    `total    ${formatCoins(amountSats + signed.feeSats)}`,
    `change   ${signed.changeIndex >= 0 ? formatCoins(signed.changeSats) : 'none'}`,
    `inputs   ${signed.inputs.length} (${formatCoins(signed.inputs.reduce((s, c) => s + c.output.value, 0n))})`,
  ].join('\n');
}

/** Shows a summary and asks; --yes skips the question. With --json the summary goes to stderr. */
async function confirmOrAbort(summary: string, question: string, flags: CommonFlags): Promise<void> {
  if (flags.yes === true) return;
  if (!isInteractive()) throw new CliError('nothing broadcast: confirmation needed, but stdin is not a terminal (pass --yes to skip the question)');
  (flags.json === true ? process.stderr : process.stdout).write(`${summary}\n`);
  if (!(await confirmOnTerminal(question))) throw new CliError('cancelled: nothing was broadcast');
}

function addCommonOptions(cmd: Command, options: { password?: boolean; node?: boolean } = {}): Command {
  cmd
    .option('--wallet <file>', 'wallet (keystore) file (default: ~/.cairn/<network>/wallet.json)')
    .option('--network <name>', `${NETWORK_NAMES.join(' | ')} (default: the wallet file's network, else main)`);
  if (options.node !== false) cmd.option('--node <url>', "the node's Esplora REST API (default: http://127.0.0.1:<network's api port>/api)");
  if (options.password !== false) cmd.option('--password-file <file>', `file holding the wallet password (else $${PASSWORD_ENV}, else asked on the terminal)`);
  return cmd
    .option('--json', 'print JSON for scripts (amounts in sats)')
    .option('-y, --yes', 'answer yes to every question (send and bump-fee ask before broadcasting)');
}

interface CreateFlags extends CommonFlags {
  mnemonic?: string;
  passphrase?: string | boolean;
}

async function createOrRestore(flags: CreateFlags, restoring: boolean): Promise<void> {
  const target = resolveWalletTarget(flags, 'new');
  await withTarget(target, async () => {
    let mnemonic: string | undefined;
    if (restoring) {
      if (flags.mnemonic !== undefined) mnemonic = flags.mnemonic;
      else if (isInteractive()) mnemonic = await readHiddenLine('Mnemonic (the 12..24 words, separated by spaces): ');
      else throw new CliError('restore needs --mnemonic "<words>" (stdin is not a terminal to ask on)');
      mnemonic = mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
      // Check the words before asking for a password, so a typo does not cost a prompt.
      mnemonicToWalletSeed(mnemonic);
    }
    const passphrase = await obtainPassphrase(flags.passphrase);
    const password = await obtainPassword(flags, true);
    await mkdir(dirname(target.walletPath), { recursive: true, mode: 0o700 });
    const keystore = await createKeystore(target.walletPath, {
      params: target.params,
      password,
      ...(mnemonic !== undefined ? { mnemonic } : {}),
      ...(passphrase !== '' ? { bip39Passphrase: passphrase } : {}),
    });
    const address = firstReceiveAddress(keystore);
    const pub = keystore.toJSON();
    if (flags.json === true) {
      printJson({
        network: target.params.name,
        file: target.walletPath,
        masterFingerprint: pub.masterFingerprint,
        ...(restoring ? {} : { mnemonic: keystore.revealMnemonic() }),
        bip39Passphrase: pub.bip39Passphrase,
        firstAddress: address,
        accounts: pub.accounts,
      });
      return;
    }
    const out = [`${restoring ? 'Restored' : 'Created'} a ${target.params.name} wallet in ${target.walletPath} (master fingerprint ${pub.masterFingerprint}).`];
    if (!restoring) {
      out.push(
        '',
        'WRITE DOWN these words, in order, and keep them offline. They are the only backup of this wallet and',
        "will not be shown again (unless you run 'cairn wallet info --show-mnemonic' with the password):",
        '',
        formatMnemonic(keystore.revealMnemonic()),
        '',
      );
      if (pub.bip39Passphrase) out.push('The BIP-39 passphrase you chose is part of the backup too: without it the words restore another wallet.', '');
    } else {
      out.push(`Run 'cairn wallet balance${flags.wallet !== undefined ? ` --wallet ${flags.wallet}` : ` --network ${target.params.name}`}' to find its coins.`);
    }
    out.push(`First receive address: ${address}`);
    process.stdout.write(`${out.join('\n')}\n`);
  });
}

/** Registers `cairn wallet` and its subcommands. */
export function registerWalletCommand(program: Command): void {
  const wallet = program
    .command('wallet')
    .description('the non-custodial HD wallet: keys encrypted in a local file, transactions signed here, chain data from a node\'s REST API')
    .addHelpText(
      'after',
      `
Every subcommand takes --wallet <file> (default ~/.cairn/<network>/wallet.json), --network (default: the
wallet file's, else main), --node <url> (default http://127.0.0.1:<api port>/api, e.g. 38730 on regtest),
--json and --yes, so one flag set serves scripts. The password comes from --password-file <file>, else
$${PASSWORD_ENV}, else a prompt without echo. A fee above 10,000 sat/vB or 0.10 coin needs --allow-high-fee.

Example (regtest, with 'cairn node --network regtest' running):
  cairn wallet create --network regtest            # prints 24 words: write them down
  cairn wallet address --network regtest           # a receive address
  cairn wallet balance --network regtest
  cairn wallet send --network regtest rcrn1... 1.5 --fee-rate 2
  cairn wallet bump-fee --network regtest <txid> --fee-rate 5`,
    );

  addCommonOptions(
    wallet
      .command('create')
      .description('create a wallet: a new 24-word BIP-39 mnemonic (shown once: write it down), BIP-84 P2WPKH and BIP-86 P2TR accounts, encrypted with the password')
      .option('--passphrase [words]', 'optional BIP-39 passphrase ("25th word"); without a value it is asked on the terminal'),
  ).action((flags: CreateFlags) => createOrRestore(flags, false));

  addCommonOptions(
    wallet
      .command('restore')
      .description('restore a wallet from its BIP-39 mnemonic (and passphrase, if it had one) into a new wallet file')
      .option('--mnemonic <words>', 'the 12..24 words in quotes (without it they are asked on the terminal, hidden)')
      .option('--passphrase [words]', 'the BIP-39 passphrase the wallet was created with; without a value it is asked on the terminal'),
  ).action((flags: CreateFlags) => createOrRestore(flags, true));

  addCommonOptions(
    wallet
      .command('info')
      .description('show the wallet file, network, master fingerprint and account xpubs (no password needed); --show-mnemonic reveals the backup words')
      .option('--show-mnemonic', 'also print the mnemonic (and the BIP-39 passphrase, if any): asks for the password'),
  ).action(async (flags: CommonFlags & { showMnemonic?: boolean }) => {
    const target = resolveWalletTarget(flags, 'existing');
    await withTarget(target, async () => {
      const header = readKeystoreHeader(target.walletPath);
      let secret: { mnemonic: string; passphrase: string } | undefined;
      if (flags.showMnemonic === true) {
        const keystore = await openKeystore(target.walletPath, await obtainPassword(flags, false));
        secret = { mnemonic: keystore.revealMnemonic(), passphrase: keystore.revealBip39Passphrase() };
      }
      const info = {
        network: header.network,
        file: target.walletPath,
        node: target.nodeUrl,
        masterFingerprint: header.masterFingerprint,
        bip39Passphrase: header.bip39Passphrase,
        accounts: header.accounts,
        ...(secret !== undefined ? { mnemonic: secret.mnemonic, ...(secret.passphrase !== '' ? { passphrase: secret.passphrase } : {}) } : {}),
      };
      if (flags.json === true) return printJson(info);
      const lines = [
        `network             ${info.network}`,
        `file                ${info.file}`,
        `node                ${info.node}`,
        `master fingerprint  ${info.masterFingerprint}`,
        `BIP-39 passphrase   ${info.bip39Passphrase ? 'yes' : 'no'}`,
        ...info.accounts.map((a) => `${a.kind.padEnd(7)} ${a.path.padEnd(12)} ${a.extendedPublicKey}`),
      ];
      if (secret !== undefined) {
        lines.push('', 'mnemonic (keep it secret):', formatMnemonic(secret.mnemonic));
        if (secret.passphrase !== '') lines.push(`passphrase: ${secret.passphrase}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  });

  addCommonOptions(
    wallet.command('address').description('show a fresh receive address (P2WPKH): the first one never used on the chain'),
  ).action(async (flags: CommonFlags) => {
    const target = resolveWalletTarget(flags, 'existing');
    await withTarget(target, async () => {
      const { wallet: w } = await openWallet(flags, target);
      await w.sync();
      const address = w.newAddress();
      if (flags.json === true) printJson({ address });
      else process.stdout.write(`${address}\n`);
    });
  });

  addCommonOptions(
    wallet
      .command('balance')
      .description('show the balance: confirmed (spendable), unconfirmed (in the mempool) and immature (young coinbases)'),
  ).action(async (flags: CommonFlags) => {
    const target = resolveWalletTarget(flags, 'existing');
    await withTarget(target, async () => {
      const { wallet: w } = await openWallet(flags, target);
      const { tipHeight } = await w.sync();
      const b = w.getBalance();
      if (flags.json === true) {
        return printJson({
          confirmedSats: Number(b.confirmed),
          unconfirmedSats: Number(b.unconfirmed),
          immatureSats: Number(b.immature),
          tipHeight,
        });
      }
      process.stdout.write(
        [`confirmed    ${formatCoins(b.confirmed)}`, `unconfirmed  ${formatCoins(b.unconfirmed)}`, `immature     ${formatCoins(b.immature)}`, `(tip height ${tipHeight})`].join('\n') +
          '\n',
      );
    });
  });

  addCommonOptions(
    wallet.command('utxos').description('list the unspent outputs the wallet holds (confirmed and unconfirmed)'),
  ).action(async (flags: CommonFlags) => {
    const target = resolveWalletTarget(flags, 'existing');
    await withTarget(target, async () => {
      const { wallet: w } = await openWallet(flags, target);
      const { tipHeight } = await w.sync();
      const rows = w.getUtxos().map((c) => ({
        txid: hashToHex(c.outpoint.txid),
        vout: c.outpoint.index,
        valueSats: Number(c.value),
        address: c.address.address,
        path: c.address.path,
        ...(c.height !== undefined ? { height: c.height, confirmations: tipHeight - c.height + 1 } : { confirmations: 0 }),
        isCoinbase: c.isCoinbase,
      }));
      if (flags.json === true) return printJson(rows);
      if (rows.length === 0) return void process.stdout.write('no unspent outputs\n');
      for (const r of rows) {
        const conf = r.confirmations === 0 ? 'unconfirmed' : `${r.confirmations} conf${r.isCoinbase ? ', coinbase' : ''}`;
        process.stdout.write(`${r.txid}:${r.vout}  ${formatCoins(BigInt(r.valueSats)).padStart(17)}  ${r.address}  ${conf}\n`);
      }
    });
  });

  addCommonOptions(
    wallet.command('history').description("list the wallet's transactions, newest first: net amount, fee paid, confirmations"),
  ).action(async (flags: CommonFlags) => {
    const target = resolveWalletTarget(flags, 'existing');
    await withTarget(target, async () => {
      const { wallet: w } = await openWallet(flags, target);
      const { tipHeight } = await w.sync();
      const records = w.getHistory();
      if (flags.json === true) {
        return printJson(
          records.map((r) => ({
            txid: r.txid,
            netSats: Number(r.netSats),
            receivedSats: Number(r.receivedSats),
            sentSats: Number(r.sentSats),
            ...(r.feeSats !== undefined ? { feeSats: Number(r.feeSats) } : {}),
            confirmed: r.status.confirmed,
            ...(r.status.blockHeight !== undefined ? { blockHeight: r.status.blockHeight, confirmations: tipHeight - r.status.blockHeight + 1 } : { confirmations: 0 }),
            isCoinbase: r.isCoinbase,
          })),
        );
      }
      if (records.length === 0) return void process.stdout.write('no transactions\n');
      for (const r of records) {
        const net = `${r.netSats >= 0n ? '+' : ''}${formatCoins(r.netSats)}`.padStart(18);
        const fee = r.feeSats !== undefined ? `  fee ${formatCoins(r.feeSats)}` : '';
        process.stdout.write(`${r.txid}  ${net}${fee}  ${r.isCoinbase ? 'coinbase, ' : ''}${describeStatus(r.status, tipHeight)}\n`);
      }
    });
  });

  addCommonOptions(
    wallet
      .command('send')
      .description(
        'pay an address: coins selected, change to a fresh change address, RBF signalled; shows the fee and asks to confirm unless --yes. ' +
          'The fee rate is the node\'s estimate (6 blocks) unless --fee-rate',
      )
      .argument('<address>', 'destination address of the wallet\'s network')
      .argument('<amount>', 'amount in coins (e.g. 1.5), or in sats with --sats')
      .option('--sats', 'the amount is in sats')
      .option('--fee-rate <sat/vB>', 'fee rate in sat/vB (may be fractional)')
      .option('--allow-high-fee', 'pay a fee above 10,000 sat/vB or 0.10 coin (refused as a likely mistake without it)')
      .option('--no-broadcast', 'sign but do not broadcast: print the transaction (hex) instead'),
  ).action(async (to: string, amountText: string, flags: CommonFlags & { sats?: boolean; feeRate?: string; allowHighFee?: boolean; broadcast: boolean }) => {
    const amountSats = parseAmount(amountText, flags.sats === true);
    const feeRateSatPerVb = flags.feeRate !== undefined ? parseFeeRate(flags.feeRate) : undefined;
    const target = resolveWalletTarget(flags, 'existing');
    await withTarget(target, async () => {
      const { wallet: w, client } = await openWallet(flags, target);
      const allowHighFee = flags.allowHighFee === true;
      const signed = await w.createPayment({ to, amountSats, ...(feeRateSatPerVb !== undefined ? { feeRateSatPerVb } : {}), allowHighFee });
      const result = {
        txid: signed.txid,
        to,
        amountSats: Number(amountSats),
        feeSats: Number(signed.feeSats),
        feeRateSatPerVb: Math.round(signed.feeRateSatPerVb * 1000) / 1000,
        vsize: signed.vsize,
        changeSats: Number(signed.changeSats),
        inputs: signed.inputs.map((c) => `${hashToHex(c.outpoint.txid)}:${c.outpoint.index}`),
      };
      if (!flags.broadcast) {
        if (flags.json === true) return printJson({ ...result, hex: signed.hex, broadcast: false });
        process.stdout.write(`${paymentSummary(signed, to, amountSats)}\ntxid     ${signed.txid} (not broadcast)\n${signed.hex}\n`);
        return;
      }
      await confirmOrAbort(paymentSummary(signed, to, amountSats), 'Send it? [y/N] ', flags);
      await broadcastHex(client, signed.hex, signed.txid, allowHighFee);
      if (flags.json === true) return printJson({ ...result, broadcast: true });
      process.stdout.write(`sent ${formatCoins(amountSats)} to ${to}, fee ${formatCoins(signed.feeSats)}\ntxid ${signed.txid}\n`);
    });
  });

  addCommonOptions(
    wallet
      .command('bump-fee')
      .description("replace an unconfirmed payment of this wallet by one paying a higher fee (BIP-125 RBF: same payments, less change)")
      .argument('<txid>', 'the unconfirmed transaction to replace')
      .requiredOption('--fee-rate <sat/vB>', 'the new fee rate in sat/vB (above the old one by at least 1 sat/vB)')
      .option('--allow-high-fee', 'pay a fee above 10,000 sat/vB or 0.10 coin (refused as a likely mistake without it)'),
  ).action(async (txid: string, flags: CommonFlags & { feeRate: string; allowHighFee?: boolean }) => {
    const feeRateSatPerVb = parseFeeRate(flags.feeRate);
    if (!/^[0-9a-fA-F]{64}$/.test(txid)) throw new CliError(`'${txid}' is not a txid (64 hex digits)`);
    const target = resolveWalletTarget(flags, 'existing');
    await withTarget(target, async () => {
      const { wallet: w, client } = await openWallet(flags, target);
      let bump: SignedBump;
      try {
        bump = await w.createBumpFee(txid.toLowerCase(), feeRateSatPerVb, { allowHighFee: flags.allowHighFee === true });
      } catch (e) {
        if (e instanceof WalletError && e.code === 'not-found') {
          throw new CliError(`transaction ${txid} is not known to the node: never broadcast, or already replaced`);
        }
        throw e;
      }
      const summary = [
        `replace  ${bump.replacesTxid}`,
        `fee      ${formatCoins(bump.originalFeeSats)} -> ${formatCoins(bump.feeSats)} (${bump.feeRateSatPerVb.toFixed(2)} sat/vB, ${bump.vsize} vB)`,
        `change   ${bump.changeIndex >= 0 ? formatCoins(bump.changeSats) : 'none'}`,
      ].join('\n');
      await confirmOrAbort(summary, 'Broadcast the replacement? [y/N] ', flags);
      await broadcastHex(client, bump.hex, bump.txid, flags.allowHighFee === true);
      if (flags.json === true) {
        return printJson({
          txid: bump.txid,
          replacesTxid: bump.replacesTxid,
          feeSats: Number(bump.feeSats),
          originalFeeSats: Number(bump.originalFeeSats),
          feeRateSatPerVb: Math.round(bump.feeRateSatPerVb * 1000) / 1000,
          vsize: bump.vsize,
        });
      }
      process.stdout.write(`replaced ${bump.replacesTxid}\nfee ${formatCoins(bump.originalFeeSats)} -> ${formatCoins(bump.feeSats)}\ntxid ${bump.txid}\n`);
    });
  });

  addCommonOptions(
    wallet
      .command('broadcast')
      .description('send a signed transaction (e.g. from send --no-broadcast) to the node; prints its txid or the node\'s reject reason')
      .argument('<hex|@file>', 'the transaction as hex, or @path to a file holding it')
      .option('--allow-high-fee', "lift the node's fee-rate ceiling (0.10 coin/kvB) for this transaction"),
    { password: false },
  ).action(async (input: string, flags: CommonFlags & { allowHighFee?: boolean }) => {
    const bytes = readHexOrFileArg(input);
    const target = resolveWalletTarget(flags, 'any');
    await withTarget(target, async () => {
      const txid = await broadcastHex(clientOf(target), bytesToHex(bytes), undefined, flags.allowHighFee === true);
      if (flags.json === true) printJson({ txid });
      else process.stdout.write(`${txid}\n`);
    });
  });
}
