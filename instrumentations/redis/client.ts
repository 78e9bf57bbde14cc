import type { RedisTarget } from '../shared/redis-command';

/** What @redis/client before 5.12 tells of a client: its options (the `options` getter). */
export interface NodeRedisClient {
  readonly options?: {
    readonly socket?: { readonly host?: string; readonly port?: number; readonly path?: string };
    readonly database?: number;
  };
}

/** A command as node-redis queues it: the command name first, then its arguments. */
export type RedisArgs = readonly unknown[];

const targets = new WeakMap<object, RedisTarget>();

/**
 * Where a client sends its commands, from its options (read once per client): host and port
 * (localhost:6379 by default, as node-redis), or the Unix socket path, and the database index the
 * client was configured with (node-redis before 5.12 does not expose a later SELECT).
 */
export function clientTarget(client: NodeRedisClient): RedisTarget {
  let target = targets.get(client);
  if (target === undefined) {
    const options = client.options;
    const socket = options?.socket;
    target =
      typeof socket?.path === 'string'
        ? { serverAddress: socket.path, database: options?.database ?? 0 }
        : { serverAddress: socket?.host ?? 'localhost', serverPort: socket?.port ?? 6379, database: options?.database ?? 0 };
    targets.set(client, target);
  }
  return target;
}
