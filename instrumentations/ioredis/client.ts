import type { RedisTarget } from '../shared/redis-command';

/** The parts of an ioredis Command this instrumentation reads (and, before 5.11, wraps). */
export interface IoredisCommand {
  readonly name: string;
  readonly args: unknown[];
  /** Set by ioredis 5.11+ once it published the command on `ioredis:command`. */
  readonly isTraced?: boolean;
  resolve(value: unknown): unknown;
  reject(error: unknown): unknown;
}

/** The parts of an ioredis client (`Redis` instance) this instrumentation reads. */
export interface IoredisClient {
  readonly status?: string;
  readonly options?: { readonly host?: string; readonly port?: number; readonly path?: string; readonly db?: number };
  readonly condition?: { readonly select?: number } | null;
  readonly stream?: { readonly remoteAddress?: string; readonly remotePort?: number } | null;
}

export function isCommand(value: unknown): value is IoredisCommand {
  return value !== null && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string';
}

/** Where the client sends its commands: configured host and port, the selected database, the socket's peer. */
export function clientTarget(client: IoredisClient): RedisTarget {
  const options = client.options ?? {};
  const path = options.path;
  return {
    serverAddress: path || options.host || 'localhost',
    serverPort: path ? undefined : options.port || 6379,
    database: client.condition?.select ?? options.db ?? 0,
    peerAddress: client.stream?.remoteAddress,
    peerPort: client.stream?.remotePort,
  };
}

/** The commands ioredis itself sends while a connection is being set up. */
const SETUP_COMMANDS = new Set(['auth', 'hello', 'select', 'client', 'info', 'readonly']);

/**
 * True for a command the client sends as part of connecting (AUTH, SELECT, CLIENT SETNAME and
 * SETINFO, the INFO ready check): those are written while the status is `connect`, when the
 * application's own commands wait in the offline queue. They belong to the connection, so they get
 * no span of their own (node-redis does not expose its handshake either).
 */
export function isConnectionSetup(client: IoredisClient, command: IoredisCommand): boolean {
  return client.status === 'connect' && SETUP_COMMANDS.has(command.name.toLowerCase());
}
