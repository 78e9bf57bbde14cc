import type { Exception } from '@opentelemetry/api';

/**
 * Errors whose message must not leave the process, with what may be shown in their place.
 *
 * A database server's error message can quote the values of the query that failed (`Duplicate
 * entry 'alice@example.com'`, `invalid input syntax for type integer: "…"`), and so can the
 * errors libraries wrap them in (knex prefixes the SQL with its bindings, Sequelize and TypeORM
 * copy the message). The driver instrumentation that reads such an error registers its safe
 * description here; every span that later records the same error (a framework's handler span,
 * application code through @opentelemetry/api) then records that description, not the message.
 */
const withheld = new WeakMap<object, Exception>();

/** Properties under which ORMs and query builders keep the driver error they wrap. */
const WRAPPED_ERROR_KEYS = ['cause', 'original', 'parent', 'driverError'] as const;

/**
 * Registers what any span may record of `error` from now on: `name: message` with the error's own
 * stack frames (the stack's first line repeats the withheld message), and returns it.
 */
export function withholdMessage(error: object, name: string, code: string, message: string): Exception {
  const safe = { name, code, message, stack: withFrames(error, name, message) };
  withheld.set(error, safe);
  return safe;
}

/**
 * What a span may record of `error`: undefined when it is not known to quote values, else a
 * safe description. An error that wraps a withheld one (one level deep) is described by the
 * wrapped error's safe message under its own name, with its own stack frames.
 */
export function safeExceptionFor(error: unknown): Exception | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = withheld.get(error);
  if (own !== undefined) return own;
  for (const key of WRAPPED_ERROR_KEYS) {
    const inner = (error as Record<string, unknown>)[key];
    const safe = typeof inner === 'object' && inner !== null ? withheld.get(inner) : undefined;
    if (safe !== undefined) return rename(error, safe);
  }
  return undefined;
}

function rename(error: object, safe: Exception): Exception {
  const { name } = error as { name?: unknown };
  const title = typeof name === 'string' && name !== '' ? name : 'Error';
  const message = typeof safe === 'string' ? safe : (safe.message ?? '');
  return { name: title, code: typeof safe === 'string' ? undefined : safe.code, message, stack: withFrames(error, title, message) };
}

/** `title: message` followed by the error's stack frames; undefined when its stack has none. */
function withFrames(error: object, title: string, message: string): string | undefined {
  const { stack } = error as { stack?: unknown };
  const frames = typeof stack === 'string' ? stack.indexOf('\n    at ') : -1;
  return frames === -1 ? undefined : `${title}: ${message}${(stack as string).slice(frames)}`;
}
