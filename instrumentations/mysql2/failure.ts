import { describeError, type DescribeFailure } from '../../src/instrumentation/outcome';
import { withholdMessage } from '../../src/trace/withheld-errors';

interface ServerError {
  readonly errno: number;
  readonly code?: unknown;
  readonly sqlState?: unknown;
}

/**
 * An error the server sent: mysql2 gives it the server's error number (`errno`), its symbol
 * (`code`: ER_DUP_ENTRY) and SQLSTATE. Client-side errors (ECONNREFUSED, PROTOCOL_CONNECTION_LOST,
 * a bad bind parameter) have no SQLSTATE.
 */
function serverError(error: unknown): ServerError | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { errno, sqlState } = error as { errno?: unknown; sqlState?: unknown };
  return typeof errno === 'number' && Number.isInteger(errno) && typeof sqlState === 'string' ? (error as ServerError) : undefined;
}

/**
 * How a failed mysql2 operation shows on its span. An error the server sent is known by its error
 * number (db.response.status_code and error.type, as the MySQL and MariaDB conventions ask) and
 * symbol: its message (`Duplicate entry 'alice@example.com' for key 'email'`), its stack trace,
 * which starts with that message, and the `sql` mysql2 attaches (the text with its values
 * inlined) never leave the process; the stack's frames are kept. Any other error is recorded as
 * it is, with its code (ECONNREFUSED) or else its class name as error.type.
 */
export const describeMysqlFailure: DescribeFailure = (error) => {
  const server = serverError(error);
  if (server === undefined) return describeError(error);
  const status = String(server.errno);
  const symbol = typeof server.code === 'string' && /^[A-Z0-9_]+$/.test(server.code) ? ` ${server.code}` : '';
  const message = `server error ${status}${symbol}`;
  // Whichever span records this error later (a framework's handler span) records this instead.
  const exception = withholdMessage(server, 'Error', status, message);
  return { type: status, statusCode: status, message, exception };
};
