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

/** Registers `safe` as what any span may record of `error`. */
export function withholdMessage(error: unknown, safe: Exception): void {
  if (typeof error === 'object' && error !== null) withheld.set(error, safe);
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
  const { name, stack } = error as { name?: unknown; stack?: unknown };
  const title = typeof name === 'string' && name !== '' ? name : 'Error';
  const message = typeof safe === 'string' ? safe : (safe.message ?? '');
  const frames = typeof stack === 'string' ? stack.indexOf('\n    at ') : -1;
  return {
    name: title,
    code: typeof safe === 'string' ? undefined : safe.code,
    message,
    stack: frames === -1 ? undefined : `${title}: ${message}${(stack as string).slice(frames)}`,
  };
}
