/**
 * JSON-RPC error codes, with Bitcoin Core's numbers and names.
 * @see Bitcoin Core rpc/protocol.h RPCErrorCode
 */
export const RPC_ERROR = Object.freeze({
  // Standard JSON-RPC 2.0 errors.
  /** The request object is malformed (missing method, bad params type). HTTP 400 in legacy mode. */
  INVALID_REQUEST: -32600,
  /** Unknown method. HTTP 404 in legacy mode. */
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  /** Core uses it for internal errors (e.g. a mined block that was not accepted). */
  INTERNAL_ERROR: -32603,
  /** The body is not JSON. */
  PARSE_ERROR: -32700,

  // General application errors.
  /** std::exception thrown in command handling (also: wrong number of arguments, with the help text). */
  MISC_ERROR: -1,
  /** Unexpected type was passed as parameter. */
  TYPE_ERROR: -3,
  /** Invalid address or key. */
  INVALID_ADDRESS_OR_KEY: -5,
  /** Ran out of memory during operation. */
  OUT_OF_MEMORY: -7,
  /** Invalid, missing or duplicate parameter. */
  INVALID_PARAMETER: -8,
  /** Database error. */
  DATABASE_ERROR: -20,
  /** Error parsing or validating structure in raw format. */
  DESERIALIZATION_ERROR: -22,
  /** General error during transaction or block submission. */
  VERIFY_ERROR: -25,
  /** Transaction or block was rejected by network rules. */
  VERIFY_REJECTED: -26,
  /** Transaction already in chain. */
  VERIFY_ALREADY_IN_CHAIN: -27,
  /** Client still warming up. */
  IN_WARMUP: -28,
  /** RPC method is deprecated. */
  METHOD_DEPRECATED: -32,

  // P2P client errors.
  /** The node is not connected to any peer. */
  CLIENT_NOT_CONNECTED: -9,
  /** Still downloading initial blocks. */
  CLIENT_IN_INITIAL_DOWNLOAD: -10,
  /** Node to disconnect not found in connected nodes. */
  CLIENT_NODE_NOT_CONNECTED: -29,
  /** No valid connection manager instance found (networking off). */
  CLIENT_P2P_DISABLED: -31,
} as const);

/** One of the RPC_ERROR codes (or another integer a handler chooses). */
export type RpcErrorCode = number;

/**
 * An error a JSON-RPC method reports to the client as `{"code": code, "message": message}` (Core's JSONRPCError).
 * Handlers throw it; the server turns any other exception into RPC_MISC_ERROR with the exception's message, as Core.
 * @see Bitcoin Core rpc/request.cpp JSONRPCError
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';

  constructor(
    /** RPC_ERROR code. */
    readonly code: RpcErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** The `error` member of a JSON-RPC reply. */
  toJSON(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}
