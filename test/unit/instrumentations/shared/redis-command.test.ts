import { describe, expect, it } from 'vitest';
import {
  describeRedisFailure,
  MAX_QUERY_TEXT_LENGTH,
  redisBatchDescription,
  redisErrorType,
  redisOperationName,
  redisQueryText,
  redisStoredProcedure,
  setBatchCommands,
  setCommandArgs,
  startCommandSpan,
  startConnectSpan,
} from '../../../../instrumentations/shared/redis-command';
import { ROOT_CONTEXT } from '../../../../src/instrumentation/api';
import { recordFailure } from '../../../../src/instrumentation/outcome';
import { testProvider } from '../../../helpers/in-memory';

const V = 'VALUE';

/** [command as the application wrote it, its arguments, db.query.text]: every key rule, credentials, edge cases. */
const QUERY_TEXTS: ReadonlyArray<readonly [string, readonly unknown[], string]> = [
  // the key first, values after
  ['get', ['user:1'], 'GET user:1'],
  ['SET', ['user:1', V], 'SET user:1 ?'],
  ['set', ['user:1', V, 'EX', 10, 'NX'], 'SET user:1 ? ? ? ?'],
  ['GETSET', ['k', V], 'GETSET k ?'],
  ['PSETEX', ['k', 100, V], 'PSETEX k ? ?'],
  ['INCRBY', ['counter', 5], 'INCRBY counter ?'],
  ['HSET', ['user:1', 'email', V, 'name', V], 'HSET user:1 ? ? ? ?'],
  ['HGET', ['user:1', 'email'], 'HGET user:1 ?'],
  ['HGETALL', ['user:1'], 'HGETALL user:1'],
  ['HMGET', ['user:1', 'a', 'b'], 'HMGET user:1 ? ?'],
  ['LPUSH', ['queue', V, V], 'LPUSH queue ? ?'],
  ['LRANGE', ['queue', 0, -1], 'LRANGE queue ? ?'],
  ['LREM', ['queue', 0, V], 'LREM queue ? ?'],
  ['SADD', ['tags', V], 'SADD tags ?'],
  ['SISMEMBER', ['tags', V], 'SISMEMBER tags ?'],
  ['ZADD', ['board', 10, V], 'ZADD board ? ?'],
  ['ZSCORE', ['board', V], 'ZSCORE board ?'],
  ['XADD', ['stream', '*', 'field', V], 'XADD stream ? ? ?'],
  ['GEOADD', ['places', 13.4, 52.5, V], 'GEOADD places ? ? ?'],
  ['EXPIRE', ['k', 60], 'EXPIRE k ?'],
  ['TTL', ['k'], 'TTL k'],
  ['SETBIT', ['bits', 7, 1], 'SETBIT bits ? ?'],
  ['PUBLISH', ['news', V], 'PUBLISH news ?'],
  // every argument a key (or channel)
  ['MGET', ['a', 'b', 'c'], 'MGET a b c'],
  ['DEL', ['a', 'b'], 'DEL a b'],
  ['EXISTS', ['a'], 'EXISTS a'],
  ['WATCH', ['a', 'b'], 'WATCH a b'],
  ['SINTERSTORE', ['dest', 'a', 'b'], 'SINTERSTORE dest a b'],
  ['PFMERGE', ['dest', 'a'], 'PFMERGE dest a'],
  ['SUBSCRIBE', ['news', 'weather'], 'SUBSCRIBE news weather'],
  ['PSUBSCRIBE', ['news.*'], 'PSUBSCRIBE news.*'],
  // keys, then a timeout
  ['BLPOP', ['q1', 'q2', 5], 'BLPOP q1 q2 ?'],
  ['BZPOPMIN', ['z', 0], 'BZPOPMIN z ?'],
  // two keys
  ['RENAME', ['a', 'b'], 'RENAME a b'],
  ['LMOVE', ['src', 'dst', 'LEFT', 'RIGHT'], 'LMOVE src dst ? ?'],
  ['BLMOVE', ['src', 'dst', 'LEFT', 'RIGHT', 1], 'BLMOVE src dst ? ? ?'],
  ['SMOVE', ['src', 'dst', V], 'SMOVE src dst ?'],
  ['COPY', ['src', 'dst', 'REPLACE'], 'COPY src dst ?'],
  // key and value pairs
  ['MSET', ['k1', V, 'k2', V], 'MSET k1 ? k2 ?'],
  ['MSETNX', ['k1', V, 'k2'], 'MSETNX k1 ? k2'],
  // subcommands
  ['CLIENT', ['SETNAME', V], 'CLIENT SETNAME ?'],
  ['CLIENT', ['KILL', 'ID', 14], 'CLIENT KILL ? ?'],
  ['CONFIG', ['SET', 'requirepass', V], 'CONFIG SET ? ?'],
  ['ACL', ['SETUSER', 'alice', 'on', `>${V}`], 'ACL SETUSER ? ? ?'],
  ['OBJECT', ['ENCODING', 'k'], 'OBJECT ENCODING k'],
  ['MEMORY', ['USAGE', 'k', 'SAMPLES', 5], 'MEMORY USAGE k ? ?'],
  ['XGROUP', ['CREATE', 'stream', 'group', '$'], 'XGROUP CREATE stream ? ?'],
  ['BITOP', ['AND', 'dest', 'a', 'b'], 'BITOP AND dest a b'],
  // numkeys
  ['ZUNION', [2, 'a', 'b', 'WEIGHTS', 1, 2], 'ZUNION 2 a b ? ? ?'],
  ['SINTERCARD', [2, 'a', 'b', 'LIMIT', 5], 'SINTERCARD 2 a b ? ?'],
  ['ZUNIONSTORE', ['dest', 2, 'a', 'b'], 'ZUNIONSTORE dest 2 a b'],
  ['BLMPOP', [5, 2, 'a', 'b', 'LEFT'], 'BLMPOP ? 2 a b ?'],
  ['EVAL', ["return redis.call('SET', KEYS[1], ARGV[1])", 1, 'k', V], 'EVAL ? 1 k ?'],
  ['EVAL', ['return 1', 0], 'EVAL ? 0'],
  ['EVALSHA', ['e0e1f9fabfc9d4800c877a703b823ac0578ff831', 2, 'a', 'b', V], 'EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff831 2 a b ?'],
  ['FCALL', ['myfunc', 1, 'k', V], 'FCALL myfunc 1 k ?'],
  ['EVAL', ['script', 'not-a-number', 'k'], 'EVAL ? ? ?'],
  // streams
  ['XREAD', ['COUNT', 2, 'STREAMS', 's1', 's2', '0', '0'], 'XREAD ? ? STREAMS s1 s2 ? ?'],
  ['XREADGROUP', ['GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', 's1', '>'], 'XREADGROUP ? ? ? ? ? STREAMS s1 ?'],
  ['XREAD', ['COUNT', 2], 'XREAD ? ?'],
  // no key; credentials never shown
  ['PING', [], 'PING'],
  ['PING', [V], 'PING ?'],
  ['ECHO', [V], 'ECHO ?'],
  ['SELECT', [3], 'SELECT ?'],
  ['INFO', ['server'], 'INFO ?'],
  ['KEYS', ['user:*'], 'KEYS ?'],
  ['SCAN', [0, 'MATCH', 'user:*'], 'SCAN ? ? ?'],
  ['AUTH', [V], 'AUTH ?'],
  ['AUTH', ['user', V], 'AUTH ? ?'],
  ['HELLO', [3, 'AUTH', 'user', V, 'SETNAME', 'app'], 'HELLO ? ? ? ? ? ?'],
  ['MIGRATE', ['host', 6379, '', 0, 5000, 'AUTH', V, 'KEYS', 'a'], 'MIGRATE ? ? ? ? ? ? ? ? ?'],
  ['MULTI', [], 'MULTI'],
  // commands this table does not know show no argument; Redis Stack modules their key
  ['NOSUCHCOMMAND', [V, V], 'NOSUCHCOMMAND ? ?'],
  ['JSON.SET', ['doc', '$', V], 'JSON.SET doc ? ?'],
  ['FT.SEARCH', ['idx', `@email:${V}`], 'FT.SEARCH idx ?'],
  // how arguments read as text
  ['GET', [Buffer.from('binary:key')], 'GET binary:key'],
  ['GET', [42], 'GET 42'],
  ['GET', [{ an: 'object' }], 'GET ?'],
  ['GET', [], 'GET'],
];

describe('redisQueryText', () => {
  it.each(QUERY_TEXTS)('%s %j -> %s', (command, args, expected) => {
    const operation = redisOperationName(command);
    expect(redisQueryText(operation, args)).toBe(expected);
    // node-redis passes the command name first: the same text from args[1..].
    expect(redisQueryText(operation, [command, ...args], 1)).toBe(expected);
    expect(expected).not.toContain(V);
  });

  it('cuts long text at MAX_QUERY_TEXT_LENGTH characters, ending with …', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `key:${i}`);
    const text = redisQueryText('DEL', keys);
    expect(text).toHaveLength(MAX_QUERY_TEXT_LENGTH + 1);
    expect(text.endsWith('…')).toBe(true);
    expect(text.startsWith('DEL key:0 key:1 ')).toBe(true);
    expect(redisQueryText('GET', ['k'.repeat(5000)])).toHaveLength(MAX_QUERY_TEXT_LENGTH + 1);
    // A huge MSET stops being read once the text is full.
    const pairs = Array.from({ length: 100_000 }, (_, i) => (i % 2 === 0 ? `k${i}` : V));
    expect(redisQueryText('MSET', pairs)).toHaveLength(MAX_QUERY_TEXT_LENGTH + 1);
  });

  it('names the stored procedure of EVALSHA and FCALL, not of EVAL', () => {
    expect(redisStoredProcedure('EVALSHA', ['abc', 0])).toBe('abc');
    expect(redisStoredProcedure('FCALL', ['EVALSHA', 'myfunc', 0], 1)).toBe('myfunc');
    expect(redisStoredProcedure('EVAL', ['return 1', 0])).toBeUndefined();
    expect(redisStoredProcedure('GET', ['k'])).toBeUndefined();
  });
});

describe('redisBatchDescription', () => {
  const command = (operation: string, text: string) => ({ operation, text });

  it('calls a MULTI of different commands MULTI and lists them', () => {
    expect(redisBatchDescription('MULTI', [command('SET', 'SET a ?'), command('GET', 'GET a')])).toEqual({
      operation: 'MULTI',
      text: 'SET a ?; GET a',
      size: 2,
    });
  });

  it('names the command when all are the same one, and lists identical texts once', () => {
    expect(redisBatchDescription('MULTI', [command('INCR', 'INCR a'), command('INCR', 'INCR b')])).toEqual({
      operation: 'MULTI INCR',
      text: 'INCR a; INCR b',
      size: 2,
    });
    expect(redisBatchDescription('MULTI', [command('INCR', 'INCR a'), command('INCR', 'INCR a')]).text).toBe('INCR a');
  });

  it('describes an empty MULTI, and cuts a long list', () => {
    expect(redisBatchDescription('MULTI', [])).toEqual({ operation: 'MULTI', text: undefined, size: 0 });
    const many = Array.from({ length: 200 }, (_, i) => command('GET', `GET key:${i}`));
    expect(redisBatchDescription('MULTI', many).text).toHaveLength(MAX_QUERY_TEXT_LENGTH + 1);
  });
});

describe('redisErrorType', () => {
  it.each([
    [new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), 'WRONGTYPE', 'WRONGTYPE'],
    [new Error('ERR unknown command'), 'ERR', 'ERR'],
    [new Error('EXECABORT Transaction discarded because of previous errors.'), 'EXECABORT', 'EXECABORT'],
    [new Error('NOSCRIPT'), 'NOSCRIPT', 'NOSCRIPT'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED', undefined],
    [new (class ClientClosedError extends Error {})('The client is closed'), 'ClientClosedError', undefined],
    [
      Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }),
      'MaxRetriesPerRequestError',
      undefined,
    ],
    [new Error('Connection is closed.'), '_OTHER', undefined],
    ['a string', '_OTHER', undefined],
    [undefined, '_OTHER', undefined],
  ])('%s -> %s', (error, type, statusCode) => {
    expect(redisErrorType(error)).toEqual(statusCode === undefined ? { type } : { type, statusCode });
  });
});

describe('spans', () => {
  const { processor, tracer } = testProvider();

  it('records an error reply without the arguments Redis echoes back', () => {
    const span = startCommandSpan(tracer, ROOT_CONTEXT, 'NOSUCHCOMMAND', [V], {});
    const error = new Error(`ERR unknown command 'NOSUCHCOMMAND', with args beginning with: '${V}' `);
    recordFailure(span, error, describeRedisFailure);
    span.end();
    const recorded = processor.spans.at(-1)!;
    expect(recorded.status).toEqual({ code: 2, message: "ERR unknown command 'NOSUCHCOMMAND'" });
    expect(recorded.attributes).toMatchObject({ 'error.type': 'ERR', 'db.response.status_code': 'ERR', 'db.query.text': 'NOSUCHCOMMAND ?' });
    expect(JSON.stringify(recorded.events)).not.toContain(V);
    expect(recorded.events[0]!.attributes['exception.message']).toBe("ERR unknown command 'NOSUCHCOMMAND'");
    expect(error.message).toContain(V);
  });

  it('names a transaction after its commands, or gives the batch size it was told', () => {
    const span = startCommandSpan(tracer, ROOT_CONTEXT, 'MULTI', undefined, { database: 2 });
    setBatchCommands(span, [], 4);
    span.end();
    expect(processor.spans.at(-1)!.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'MULTI',
      'db.namespace': '2',
      'db.operation.batch.size': 4,
    });
  });

  it('gives a transaction of one command no batch size, and an empty one a batch size of 0', () => {
    const one = startCommandSpan(tracer, ROOT_CONTEXT, 'MULTI', undefined, {});
    setBatchCommands(one, [{ operation: 'INCR', text: 'INCR n' }]);
    one.end();
    expect(processor.spans.at(-1)!.name).toBe('MULTI INCR');
    expect(processor.spans.at(-1)!.attributes['db.operation.batch.size']).toBeUndefined();
    const empty = startCommandSpan(tracer, ROOT_CONTEXT, 'MULTI', undefined, {});
    setBatchCommands(empty, []);
    empty.end();
    expect(processor.spans.at(-1)!.name).toBe('MULTI');
    expect(processor.spans.at(-1)!.attributes['db.operation.batch.size']).toBe(0);
  });

  it('names EVALSHA and FCALL after what they run, whether the arguments come at the start or later', () => {
    startCommandSpan(tracer, ROOT_CONTEXT, 'FCALL', ['get_user', '1', 'user:1'], {}).end();
    expect(processor.spans.at(-1)!.name).toBe('FCALL get_user');
    expect(processor.spans.at(-1)!.attributes['db.stored_procedure.name']).toBe('get_user');
    const later = startCommandSpan(tracer, ROOT_CONTEXT, 'EVALSHA', undefined, {});
    setCommandArgs(later, 'EVALSHA', ['EVALSHA', 'abc123', '0'], 1);
    later.end();
    expect(processor.spans.at(-1)!.name).toBe('EVALSHA abc123');
    expect(processor.spans.at(-1)!.attributes).toMatchObject({ 'db.stored_procedure.name': 'abc123', 'db.operation.name': 'EVALSHA' });
    // Any other command is named after itself alone.
    startCommandSpan(tracer, ROOT_CONTEXT, 'GET', ['user:1'], { database: 1 }).end();
    expect(processor.spans.at(-1)!.name).toBe('GET');
  });

  it('gives a connection span the server and the peer, no database', () => {
    const target = { serverAddress: 'cache', serverPort: 6380, peerAddress: '10.0.0.5', peerPort: 6380, database: 3 };
    startConnectSpan(tracer, ROOT_CONTEXT, target).end();
    const recorded = processor.spans.at(-1)!;
    expect(recorded.name).toBe('connect');
    expect(recorded.attributes).toEqual({
      'db.system.name': 'redis',
      'server.address': 'cache',
      'server.port': 6380,
      'network.peer.address': '10.0.0.5',
      'network.peer.port': 6380,
    });
  });
});
