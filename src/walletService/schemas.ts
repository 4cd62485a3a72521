/**
 * TypeBox schemas of the wallet service's requests: each gives the TypeScript type (Static) and the JSON Schema Fastify
 * validates with (no type coercion, no unknown fields: a body that does not match answers 400 bad-request).
 * Amounts are integer sats as JSON numbers (at most MAX_MONEY, below 2^53); fee rates are sat/vB.
 */
import { Type, type Static } from 'typebox';
import { MAX_MONEY } from '../consensus/amount.js';

/** Usernames: 3..32 of a-z 0-9 _ . -, starting with a letter or digit. */
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9_.-]{2,31}$';

/** POST /v1/register and /v1/login. */
export const CredentialsBody = Type.Object(
  {
    username: Type.String({ pattern: USERNAME_PATTERN, description: '3..32 characters: a-z 0-9 _ . - (lower case)' }),
    password: Type.String({ minLength: 8, maxLength: 1024, description: 'at least 8 characters' }),
  },
  { additionalProperties: false },
);
/** The validated CredentialsBody (TypeScript type of the schema). */
export type CredentialsBody = Static<typeof CredentialsBody>;

/** Login only checks the shape loosely: a wrong username or password is 401, not 400. */
export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
/** The validated LoginBody (TypeScript type of the schema). */
export type LoginBody = Static<typeof LoginBody>;

/** An address field: the service checks it is a P2WPKH or P2TR address of its network. */
const Address = Type.String({ minLength: 1, maxLength: 128, description: 'P2WPKH or P2TR address of the network' });

/** POST /v1/wallet/send. */
export const SendBody = Type.Object(
  {
    address: Address,
    amountSats: Type.Integer({ minimum: 1, maximum: Number(MAX_MONEY), description: 'sats to pay' }),
    feeRateSatPerVb: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000, description: "sat/vB; default the node's estimate" })),
    allowHighFee: Type.Optional(
      Type.Boolean({ description: 'pay a fee above 10,000 sat/vB or 0.10 coin (refused as a likely mistake without it; default false)' }),
    ),
  },
  { additionalProperties: false },
);
/** The validated SendBody (TypeScript type of the schema). */
export type SendBody = Static<typeof SendBody>;

/** POST /v1/faucet. */
export const FaucetBody = Type.Object(
  { address: Type.Optional(Address) },
  { additionalProperties: false },
);
/** The validated FaucetBody (TypeScript type of the schema). */
export type FaucetBody = Static<typeof FaucetBody>;

/** Path parameters of /v1/wallets/:username/…. */
export const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });
/** The validated UsernameParams (TypeScript type of the schema). */
export type UsernameParams = Static<typeof UsernameParams>;
