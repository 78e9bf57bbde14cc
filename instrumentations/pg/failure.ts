import { describeError, type DescribeFailure } from '../../src/instrumentation/outcome';
import { withholdMessage } from '../../src/trace/withheld-errors';

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of an error PostgreSQL sent (pg's DatabaseError carries `code` and `severity`);
 * undefined for every other error, Node's ECONNREFUSED included.
 */
export function sqlState(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/**
 * How a failed pg operation shows on its span. An error PostgreSQL sent is known by its SQLSTATE
 * alone (db.response.status_code and error.type): its message, and the stack trace that starts
 * with it, can quote the query's values (`invalid input syntax for type integer: "…"`), so
 * neither leaves the process; the stack's frames are kept. Any other error is recorded as it
 * is, with its code (ECONNREFUSED) or else its class name as error.type.
 */
export const describePgFailure: DescribeFailure = (error) => {
  const state = sqlState(error);
  if (state === undefined) return describeError(error);
  const message = `PostgreSQL error ${state}`;
  // Whichever span records this error later (a framework's handler span) records this instead.
  const exception = withholdMessage(error as object, 'DatabaseError', state, message);
  return { type: state, statusCode: state, message, exception };
};
