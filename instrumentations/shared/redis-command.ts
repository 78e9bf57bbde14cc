/**
 * How a Redis command is reported, the same for node-redis and ioredis:
 * - span name and db.operation.name: the command in upper case (`GET`, `HGETALL`); a MULTI
 *   transaction `MULTI`, or `MULTI <COMMAND>` when all its commands are the same; EVALSHA and
 *   FCALL are named with their script or function too (`FCALL get_user`);
 * - db.query.text in `COMMAND key ? ?` form: the command and its keys, by a table of where each
 *   command keeps them; every other argument is `?`, a command the table does not know shows none,
 *   so no stored value and no credential is ever recorded; cut after MAX_QUERY_TEXT_LENGTH;
 * - db.namespace, server.*, network.peer.* as far as the client knows them;
 * - error.type: the Redis error prefix (`WRONGTYPE`, also db.response.status_code), else the
 *   error's code or class; the arguments Redis echoes in some error messages are not recorded.
 */
import type { Context, Exception, Span, Tracer } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '../../src/instrumentation/api';
import { errorMessage, errorType, outcomeOf, type DescribeFailure, type OnSuccess, type Outcome } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_BATCH_SIZE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_STORED_PROCEDURE_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_REDIS,
  ERROR_TYPE_VALUE_OTHER,
} from '../../src/semconv';

/** db.query.text longer than this is cut (and ends with `…`). */
export const MAX_QUERY_TEXT_LENGTH = 1000;

const TRANSACTION = 'MULTI';
const CONNECT = 'connect';

/** error.type of a MULTI that EXEC aborted because a WATCHed key changed (node-redis's WatchError). */
export const WATCH_CONFLICT_ERROR_TYPE = 'WatchError';

type Args = ArrayLike<unknown>;

/**
 * Where a command keeps its keys. A command absent from KEY_RULES (a newer or unknown command)
 * shows no argument at all: only what is known to be a key is ever shown.
 */
type KeyRule =
  /** The key, then values: GET key, SET key ?, HSET key ? ?. */
  | 'first'
  /** No key: every argument is `?` (also AUTH, HELLO and MIGRATE, which carry credentials). */
  | 'none'
  /** Every argument is a key (or a pub/sub channel). */
  | 'all'
  /** Keys, then a timeout: BLPOP k1 k2 5. */
  | 'allButLast'
  /** Two keys, source and destination: RENAME a b. */
  | 'firstTwo'
  /** Key and value pairs: MSET k1 v1 k2 v2. */
  | 'pairs'
  /** A subcommand (kept), then no key: CONFIG GET ?. */
  | 'subcommand'
  /** A subcommand, then the key: OBJECT ENCODING key. */
  | 'subcommandThenKey'
  /** An operation, then keys only: BITOP AND dest k1 k2. */
  | 'subcommandThenAll'
  /** numkeys, then that many keys: ZUNION 2 a b. */
  | 'numkeys'
  /** Destination key, numkeys, keys: ZUNIONSTORE dest 2 a b. */
  | 'keyThenNumkeys'
  /** Timeout, numkeys, keys: BLMPOP 5 2 a b LEFT. */
  | 'timeoutThenNumkeys'
  /** Script source (never shown), numkeys, keys: EVAL ? 1 k ?. */
  | 'script'
  /** Script digest or function name (shown), numkeys, keys: EVALSHA <sha1> 1 k ?. */
  | 'namedScript'
  /** Keys after the STREAMS keyword, as many as the IDs that follow them: XREAD STREAMS s1 s2 0 0. */
  | 'streams';

// prettier-ignore
const KEY_RULES: ReadonlyMap<string, KeyRule> = new Map(
  Object.entries({
    first: [
      // strings and bitmaps
      'APPEND', 'DECR', 'DECRBY', 'GET', 'GETDEL', 'GETEX', 'GETRANGE', 'GETSET', 'INCR', 'INCRBY', 'INCRBYFLOAT',
      'PSETEX', 'SET', 'SETEX', 'SETNX', 'SETRANGE', 'STRLEN', 'SUBSTR', 'BITCOUNT', 'BITFIELD', 'BITFIELD_RO', 'BITPOS',
      'GETBIT', 'SETBIT',
      // keys
      'DUMP', 'EXPIRE', 'EXPIREAT', 'EXPIRETIME', 'MOVE', 'PERSIST', 'PEXPIRE', 'PEXPIREAT', 'PEXPIRETIME', 'PTTL',
      'RESTORE', 'SORT', 'SORT_RO', 'TTL', 'TYPE',
      // hashes
      'HDEL', 'HEXISTS', 'HEXPIRE', 'HEXPIREAT', 'HEXPIRETIME', 'HGET', 'HGETALL', 'HGETDEL', 'HGETEX', 'HINCRBY',
      'HINCRBYFLOAT', 'HKEYS', 'HLEN', 'HMGET', 'HMSET', 'HPERSIST', 'HPEXPIRE', 'HPEXPIREAT', 'HPEXPIRETIME', 'HPTTL',
      'HRANDFIELD', 'HSCAN', 'HSET', 'HSETEX', 'HSETNX', 'HSTRLEN', 'HTTL', 'HVALS',
      // lists
      'LINDEX', 'LINSERT', 'LLEN', 'LPOP', 'LPOS', 'LPUSH', 'LPUSHX', 'LRANGE', 'LREM', 'LSET', 'LTRIM', 'RPOP', 'RPUSH',
      'RPUSHX',
      // sets
      'SADD', 'SCARD', 'SISMEMBER', 'SMEMBERS', 'SMISMEMBER', 'SPOP', 'SRANDMEMBER', 'SREM', 'SSCAN',
      // sorted sets
      'ZADD', 'ZCARD', 'ZCOUNT', 'ZINCRBY', 'ZLEXCOUNT', 'ZMSCORE', 'ZPOPMAX', 'ZPOPMIN', 'ZRANDMEMBER', 'ZRANGE',
      'ZRANGEBYLEX', 'ZRANGEBYSCORE', 'ZRANK', 'ZREM', 'ZREMRANGEBYLEX', 'ZREMRANGEBYRANK', 'ZREMRANGEBYSCORE',
      'ZREVRANGE', 'ZREVRANGEBYLEX', 'ZREVRANGEBYSCORE', 'ZREVRANK', 'ZSCAN', 'ZSCORE',
      // hyperloglog, geo, streams
      'PFADD', 'GEOADD', 'GEODIST', 'GEOHASH', 'GEOPOS', 'GEORADIUS', 'GEORADIUS_RO', 'GEORADIUSBYMEMBER',
      'GEORADIUSBYMEMBER_RO', 'GEOSEARCH', 'XACK', 'XADD', 'XAUTOCLAIM', 'XCLAIM', 'XDEL', 'XLEN', 'XPENDING', 'XRANGE',
      'XREVRANGE', 'XSETID', 'XTRIM',
      // pub/sub: the channel
      'PUBLISH', 'SPUBLISH',
    ],
    none: [
      'AUTH', 'HELLO', 'MIGRATE', 'PING', 'ECHO', 'SELECT', 'SWAPDB', 'FLUSHDB', 'FLUSHALL', 'DBSIZE', 'INFO', 'TIME',
      'LASTSAVE', 'SAVE', 'BGSAVE', 'BGREWRITEAOF', 'SHUTDOWN', 'WAIT', 'WAITAOF', 'RANDOMKEY', 'ROLE', 'REPLICAOF',
      'SLAVEOF', 'FAILOVER', 'QUIT', 'RESET', 'READONLY', 'READWRITE', 'MULTI', 'EXEC', 'DISCARD', 'UNWATCH', 'MONITOR',
      'SYNC', 'PSYNC', 'KEYS', 'SCAN', 'LOLWUT', 'ASKING',
    ],
    all: [
      'MGET', 'DEL', 'UNLINK', 'EXISTS', 'TOUCH', 'WATCH', 'SINTER', 'SUNION', 'SDIFF', 'SINTERSTORE', 'SUNIONSTORE',
      'SDIFFSTORE', 'PFCOUNT', 'PFMERGE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PSUBSCRIBE', 'PUNSUBSCRIBE', 'SSUBSCRIBE',
      'SUNSUBSCRIBE',
    ],
    allButLast: ['BLPOP', 'BRPOP', 'BZPOPMIN', 'BZPOPMAX'],
    firstTwo: [
      'RENAME', 'RENAMENX', 'RPOPLPUSH', 'BRPOPLPUSH', 'SMOVE', 'LMOVE', 'BLMOVE', 'COPY', 'LCS', 'GEOSEARCHSTORE',
      'ZRANGESTORE',
    ],
    pairs: ['MSET', 'MSETNX'],
    subcommand: [
      'CLIENT', 'CONFIG', 'SCRIPT', 'FUNCTION', 'CLUSTER', 'COMMAND', 'ACL', 'PUBSUB', 'SLOWLOG', 'LATENCY', 'MODULE', 'DEBUG',
    ],
    subcommandThenKey: ['OBJECT', 'MEMORY', 'XINFO', 'XGROUP'],
    subcommandThenAll: ['BITOP'],
    numkeys: ['ZUNION', 'ZINTER', 'ZDIFF', 'ZINTERCARD', 'SINTERCARD', 'LMPOP', 'ZMPOP'],
    keyThenNumkeys: ['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE'],
    timeoutThenNumkeys: ['BLMPOP', 'BZMPOP'],
    script: ['EVAL', 'EVAL_RO'],
    namedScript: ['EVALSHA', 'EVALSHA_RO', 'FCALL', 'FCALL_RO'],
    streams: ['XREAD', 'XREADGROUP'],
  } satisfies Record<KeyRule, string[]>).flatMap(([rule, commands]) => commands.map((command) => [command, rule as KeyRule])),
);

/** Commands of the Redis Stack modules (JSON.GET, TS.ADD, FT.SEARCH...): their key (or index) comes first. */
const KEY_FIRST_MODULES = /^(?:JSON|TS|BF|CF|CMS|TOPK|TDIGEST|FT)\./;

function keyRule(operation: string): KeyRule {
  return KEY_RULES.get(operation) ?? (KEY_FIRST_MODULES.test(operation) ? 'first' : 'none');
}

/** The command as span name and db.operation.name: upper case, whatever case the client used. */
export function redisOperationName(command: unknown): string {
  return String(command).toUpperCase();
}

/**
 * `COMMAND key ? ?`: `operation` is the upper-case command, its arguments are args[first..]
 * (node-redis passes the command name at args[0], ioredis apart). Keys are kept as text, every
 * other argument becomes `?`.
 */
export function redisQueryText(operation: string, args: Args, first = 0): string {
  const text = new QueryText(operation, args, first);
  const count = text.count;
  switch (keyRule(operation)) {
    case 'none':
      text.values(0, count);
      break;
    case 'first':
    case 'subcommand':
      text.keys(0, 1).values(1, count);
      break;
    case 'all':
    case 'subcommandThenAll':
      text.keys(0, count);
      break;
    case 'allButLast':
      text.keys(0, count - 1).values(count - 1, count);
      break;
    case 'firstTwo':
    case 'subcommandThenKey':
      text.keys(0, 2).values(2, count);
      break;
    case 'pairs':
      for (let i = 0; i < count && !text.full; i += 2) text.keys(i, i + 1).values(i + 1, i + 2);
      break;
    case 'numkeys':
      text.numkeys(0);
      break;
    case 'keyThenNumkeys':
    case 'namedScript':
      text.keys(0, 1).numkeys(1);
      break;
    case 'timeoutThenNumkeys':
    case 'script':
      text.values(0, 1).numkeys(1);
      break;
    case 'streams': {
      const streams = text.indexOfWord('STREAMS');
      if (streams < 0) {
        text.values(0, count);
        break;
      }
      const keyCount = Math.floor((count - streams - 1) / 2);
      text
        .values(0, streams)
        .keys(streams, streams + 1 + keyCount)
        .values(streams + 1 + keyCount, count);
      break;
    }
  }
  return text.toString();
}

/** db.stored_procedure.name: the script digest of EVALSHA, the function of FCALL. */
export function redisStoredProcedure(operation: string, args: Args, first = 0): string | undefined {
  if (keyRule(operation) !== 'namedScript' || args.length <= first) return undefined;
  return argText(args[first]);
}

/**
 * A MULTI (or other batch) as one operation: `MULTI` and, when every command is the same one,
 * `MULTI INCR` (the semantic conventions' `BATCH <operation>` with Redis's own word). The query
 * text lists the commands separated by `; ` (once when all are identical).
 */
export function redisBatchDescription(kind: string, commands: readonly { operation: string; text: string }[]): BatchDescription {
  const first = commands[0];
  if (first === undefined) return { operation: kind, text: undefined, size: 0 };
  const sameOperation = commands.every((command) => command.operation === first.operation);
  const sameText = commands.every((command) => command.text === first.text);
  return {
    operation: sameOperation ? `${kind} ${first.operation}` : kind,
    text: sameText ? first.text : joinTexts(commands),
    size: commands.length,
  };
}

export interface BatchDescription {
  readonly operation: string;
  readonly text: string | undefined;
  readonly size: number;
}

function joinTexts(commands: readonly { text: string }[]): string {
  let joined = '';
  for (const { text } of commands) {
    joined = joined === '' ? text : `${joined}; ${text}`;
    if (joined.length > MAX_QUERY_TEXT_LENGTH) return `${joined.slice(0, MAX_QUERY_TEXT_LENGTH)}…`;
  }
  return joined;
}

/** Where a Redis command went, as far as the client knows it. */
export interface RedisTarget {
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly peerAddress?: string;
  readonly peerPort?: number;
  /** The database index (db.namespace), when the client knows it. */
  readonly database?: number | string;
}

/**
 * Sets the attributes every Redis span has, one by one: an object of them per command cost the
 * span a walk over its keys, each read through V8's megamorphic lookup.
 */
function setRedisSpanAttributes(span: Span, operation: string | undefined, text: string | undefined, target: RedisTarget): void {
  span.setAttribute(ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_REDIS);
  if (operation !== undefined) span.setAttribute(ATTR_DB_OPERATION_NAME, operation);
  if (text !== undefined) span.setAttribute(ATTR_DB_QUERY_TEXT, text);
  if (target.database !== undefined && target.database !== null) span.setAttribute(ATTR_DB_NAMESPACE, String(target.database));
  if (typeof target.serverAddress === 'string' && target.serverAddress !== '') span.setAttribute(ATTR_SERVER_ADDRESS, target.serverAddress);
  if (typeof target.serverPort === 'number') span.setAttribute(ATTR_SERVER_PORT, target.serverPort);
  if (typeof target.peerAddress === 'string' && target.peerAddress !== '') {
    span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, target.peerAddress);
    if (typeof target.peerPort === 'number') span.setAttribute(ATTR_NETWORK_PEER_PORT, target.peerPort);
  }
}

/** One CLIENT span for one command, named after it, child of `parent`. */
export function startCommandSpan(
  tracer: Tracer,
  parent: Context,
  operation: string,
  args: Args | undefined,
  target: RedisTarget,
  options: { startTime?: number; first?: number } = {},
): Span {
  const span = tracer.startSpan(operation, { kind: SpanKind.CLIENT, startTime: options.startTime }, parent);
  // Built for a span that records them only (the samplers read none).
  if (!span.isRecording()) return span;
  const text = args === undefined ? undefined : redisQueryText(operation, args, options.first);
  setRedisSpanAttributes(span, operation, text, target);
  if (args !== undefined) setStoredProcedure(span, operation, args, options.first);
  return span;
}

/** Sets db.query.text (and db.stored_procedure.name) of a command span started without its arguments. */
export function setCommandArgs(span: Span, operation: string, args: Args, first = 0): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR_DB_QUERY_TEXT, redisQueryText(operation, args, first));
  setStoredProcedure(span, operation, args, first);
}

/**
 * EVALSHA and FCALL run a script or function: db.stored_procedure.name, and the span is named
 * `{db.operation.name} {target}` with it as the target (`FCALL get_user`), as the conventions
 * name spans. Every other command has no target a span name may use (db.namespace is left out
 * of Redis span names), so it is named after the command alone.
 */
function setStoredProcedure(span: Span, operation: string, args: Args, first = 0): void {
  const procedure = redisStoredProcedure(operation, args, first);
  if (procedure === undefined) return;
  span.setAttribute(ATTR_DB_STORED_PROCEDURE_NAME, procedure);
  span.updateName(`${operation} ${procedure}`);
}

/**
 * One CLIENT span for a MULTI transaction, named `MULTI` until its commands are known (see
 * setBatchCommands): both clients queue a transaction's commands after it starts.
 */
export function startTransactionSpan(tracer: Tracer, parent: Context, target: RedisTarget): Span {
  const span = tracer.startSpan(TRANSACTION, { kind: SpanKind.CLIENT }, parent);
  if (span.isRecording()) setRedisSpanAttributes(span, TRANSACTION, undefined, target);
  return span;
}

/**
 * Names a transaction's span after its commands and lists them (see redisBatchDescription).
 * `size` is the number of commands when they themselves are not known.
 */
export function setBatchCommands(span: Span, commands: readonly { operation: string; text: string }[], size = commands.length): void {
  if (!span.isRecording()) return;
  const batch = redisBatchDescription(TRANSACTION, commands);
  span.updateName(batch.operation);
  span.setAttribute(ATTR_DB_OPERATION_NAME, batch.operation);
  if (batch.text !== undefined) span.setAttribute(ATTR_DB_QUERY_TEXT, batch.text);
  const count = commands.length > 0 ? batch.size : size;
  // A transaction of one command is no batch, the conventions say; an empty one is, of size 0.
  if (count !== 1) span.setAttribute(ATTR_DB_OPERATION_BATCH_SIZE, count);
}

/**
 * The span of a connection attempt (connect() or a reconnection): `connect`, which is no Redis
 * command (so no db.operation.name), nor about a database (so no db.namespace).
 */
export function startConnectSpan(tracer: Tracer, parent: Context, target: RedisTarget, startTime?: number): Span {
  const span = tracer.startSpan(CONNECT, { kind: SpanKind.CLIENT, startTime }, parent);
  if (span.isRecording()) setRedisSpanAttributes(span, undefined, undefined, { ...target, database: undefined });
  return span;
}

/** A command as a transaction lists it. */
export function describeCommand(command: unknown, args: Args, first = 0): { operation: string; text: string } {
  const operation = redisOperationName(command);
  return { operation, text: redisQueryText(operation, args, first) };
}

/**
 * How a failed Redis operation shows on its span: the exception, error.type (and
 * db.response.status_code) from redisErrorType, error status. Redis echoes the arguments of a
 * command it does not know (`ERR unknown command 'X', with args beginning with: 'value'`): they
 * are cut from the message recorded, the application's error is left as it is.
 */
export const describeRedisFailure: DescribeFailure = (error) => {
  const { type, statusCode } = redisErrorType(error);
  const message = errorMessage(error);
  const safeMessage = message === undefined ? undefined : withoutEchoedArgs(message);
  let exception: Exception | undefined;
  if (error !== null && typeof error === 'object') {
    exception = safeMessage === message ? (error as Exception) : redactedException(error, message!, safeMessage!);
  } else if (typeof error === 'string') {
    exception = safeMessage;
  }
  return { type, statusCode, message: safeMessage, exception };
};

/** How the spans of both Redis instrumentations end: Redis's own failure description plugged in. */
export function redisOutcome(ctx: InstrumentationContext): Outcome {
  return outcomeOf(ctx, describeRedisFailure);
}

const ECHOED_ARGS = ', with args beginning with:';

function withoutEchoedArgs(message: string): string {
  const at = message.indexOf(ECHOED_ARGS);
  return at < 0 ? message : message.slice(0, at);
}

function redactedException(error: { name?: unknown; code?: unknown; stack?: unknown }, message: string, safeMessage: string): Exception {
  const { name, code, stack } = error;
  return {
    name: typeof name === 'string' ? name : undefined,
    code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
    message: safeMessage,
    stack: typeof stack === 'string' ? stack.split(message).join(safeMessage) : undefined,
  };
}

/**
 * Marks a MULTI whose EXEC was aborted by a WATCHed key (EXEC replied nil). No error was thrown:
 * the client resolved, so this is read from a successful result (an Outcome's OnSuccess).
 */
export function recordWatchConflict(span: Span): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR_ERROR_TYPE, WATCH_CONFLICT_ERROR_TYPE);
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'EXEC aborted: a watched key changed' });
}

/** The OnSuccess of a transaction resolved with EXEC's reply itself: nil is a WATCH conflict. */
export const recordNilExecReply: OnSuccess = (span, reply) => {
  if (reply === null) recordWatchConflict(span);
};

/** The error prefix Redis replies start with: `WRONGTYPE`, `ERR`, `EXECABORT`, `NOSCRIPT`... */
const REDIS_ERROR_PREFIX = /^([A-Z][A-Z0-9_]+)(?:\s|$)/;

/**
 * error.type of a failed command: the Redis error prefix for an error reply (also given as
 * db.response.status_code); otherwise the error's string code (ECONNREFUSED), else its class
 * (ClientClosedError, MaxRetriesPerRequestError), else `_OTHER`.
 */
export function redisErrorType(error: unknown): { type: string; statusCode?: string } {
  const message = errorMessage(error);
  const prefix = message === undefined ? undefined : REDIS_ERROR_PREFIX.exec(message)?.[1];
  if (prefix !== undefined) return { type: prefix, statusCode: prefix };
  // The shared rule (code, else name); a plain `Error` name says less than the class.
  const type = errorType(error);
  if (type !== 'Error' && type !== ERROR_TYPE_VALUE_OTHER) return { type };
  if (error === null || typeof error !== 'object') return { type: ERROR_TYPE_VALUE_OTHER };
  const constructorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof constructorName === 'string' && constructorName !== '' && constructorName !== 'Error' && constructorName !== 'Object') {
    return { type: constructorName };
  }
  return { type: ERROR_TYPE_VALUE_OTHER };
}

/** An argument as it appears in db.query.text when it is a key. */
function argText(arg: unknown): string {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'number' || typeof arg === 'bigint') return String(arg);
  if (arg instanceof Uint8Array) return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength).toString();
  return '?';
}

/** Builds db.query.text from args[first..], stopping once it is longer than MAX_QUERY_TEXT_LENGTH. */
class QueryText {
  private text: string;
  readonly count: number;
  full = false;

  constructor(
    operation: string,
    private readonly args: Args,
    private readonly first: number,
  ) {
    this.text = operation;
    this.count = Math.max(args.length - first, 0);
  }

  /** Arguments [from..to) as keys. */
  keys(from: number, to: number): this {
    for (let i = Math.max(from, 0); i < to && i < this.count && !this.full; i++) this.append(argText(this.args[this.first + i]));
    return this;
  }

  /** Arguments [from..to) as values: `?` each. */
  values(from: number, to: number): this {
    for (let i = Math.max(from, 0); i < to && i < this.count && !this.full; i++) this.append('?');
    return this;
  }

  /** Argument `at` is numkeys (shown), then that many keys, then values. */
  numkeys(at: number): this {
    const keyCount = Number(argText(this.args[this.first + at]));
    if (!Number.isSafeInteger(keyCount) || keyCount < 0) return this.values(at, this.count);
    return this.keys(at, at + 1 + keyCount).values(at + 1 + keyCount, this.count);
  }

  indexOfWord(word: string): number {
    for (let i = 0; i < this.count; i++) {
      const arg = this.args[this.first + i];
      if ((typeof arg === 'string' || arg instanceof Uint8Array) && argText(arg).toUpperCase() === word) return i;
    }
    return -1;
  }

  toString(): string {
    return this.full ? `${this.text.slice(0, MAX_QUERY_TEXT_LENGTH)}…` : this.text;
  }

  private append(part: string): void {
    this.text += ` ${part}`;
    if (this.text.length > MAX_QUERY_TEXT_LENGTH) this.full = true;
  }
}
