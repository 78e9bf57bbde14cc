import { describe, expect, it } from 'vitest';
import { recordFailure } from '../../../src/instrumentation/outcome';
import { safeExceptionFor, withholdMessage } from '../../../src/trace/withheld-errors';
import { testProvider } from '../../helpers/in-memory';

const SAFE = {
  name: 'Error',
  code: '1062',
  message: 'server error 1062 ER_DUP_ENTRY',
  stack: 'Error: server error 1062 ER_DUP_ENTRY\n    at driver (driver.js:1:1)',
};

function driverError(): Error {
  const error = new Error("Duplicate entry 'alice@example.com' for key 'email'");
  error.stack = `Error: ${error.message}\n    at driver (driver.js:1:1)`;
  expect(withholdMessage(error, 'Error', '1062', 'server error 1062 ER_DUP_ENTRY')).toEqual(SAFE);
  return error;
}

describe('withheld errors', () => {
  it('knows nothing of errors no instrumentation withheld', () => {
    expect(safeExceptionFor(new Error('plain'))).toBeUndefined();
    expect(safeExceptionFor('a string')).toBeUndefined();
    expect(safeExceptionFor(undefined)).toBeUndefined();
  });

  it('gives the safe description of a withheld error, even after a library rewrote its message', () => {
    const error = driverError();
    error.message = `insert into users values ('alice@example.com') - ${error.message}`;
    expect(safeExceptionFor(error)).toEqual(SAFE);
  });

  it('describes an error wrapping a withheld one by the safe message under its own name and frames', () => {
    for (const key of ['cause', 'original', 'parent', 'driverError']) {
      const wrapper = Object.assign(new Error("Validation error: 'alice@example.com'"), { name: 'UniqueConstraintError', [key]: driverError() });
      wrapper.stack = `UniqueConstraintError: Validation error: 'alice@example.com'\n    at orm (orm.js:2:2)`;
      expect(safeExceptionFor(wrapper), key).toEqual({
        name: 'UniqueConstraintError',
        code: '1062',
        message: 'server error 1062 ER_DUP_ENTRY',
        stack: 'UniqueConstraintError: server error 1062 ER_DUP_ENTRY\n    at orm (orm.js:2:2)',
      });
    }
  });

  it('keeps the message out of every span that records the error: its exception event and its status', () => {
    const { tracer, processor } = testProvider();
    const error = driverError();
    const viaApi = tracer.startSpan('application code');
    viaApi.recordException(error);
    viaApi.end();
    const viaOutcome = tracer.startSpan('handler');
    recordFailure(viaOutcome, error, (e) => ({ message: (e as Error).message, exception: e as Error }));
    viaOutcome.end();
    for (const span of processor.spans) {
      expect(span.events[0]!.attributes).toEqual({
        'exception.type': '1062',
        'exception.message': 'server error 1062 ER_DUP_ENTRY',
        'exception.stacktrace': SAFE.stack,
      });
      expect(JSON.stringify({ events: span.events, status: span.status })).not.toContain('alice@example.com');
    }
    expect(processor.spans[1]!.status).toEqual({ code: 2, message: 'server error 1062 ER_DUP_ENTRY' });
  });
});
