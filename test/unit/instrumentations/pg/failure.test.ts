import { describe, expect, it } from 'vitest';
import { pgInstrumentation } from '../../../../instrumentations/pg';
import { describePgFailure, sqlState } from '../../../../instrumentations/pg/failure';
import { Outcome, recordFailure } from '../../../../src/instrumentation/outcome';
import { withTraceparent } from '../../../../instrumentations/pg/sqlcommenter';
import { describeStatement } from '../../../../instrumentations/shared/sql-statement';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext } from '../../../helpers/instrumentation-context';

const { tracer, processor } = testProvider();
const ctx = instrumentationContext(pgInstrumentation, tracer);
const outcome = new Outcome(ctx, describePgFailure);

/** What pg-protocol builds from an ErrorResponse (its name is the message type, 'error'). */
function databaseError(code: string, message: string): Error {
  const error = Object.assign(new Error(message), { name: 'error', code, severity: 'ERROR', detail: `Key (x)=(${message}) already exists.` });
  return error;
}

function finished(name: string) {
  return processor.spans.find((span) => span.name === name)!;
}

describe('describePgFailure', () => {
  it('keeps only the SQLSTATE of an error PostgreSQL sent, and the stack frames', () => {
    const span = tracer.startSpan('db-error');
    recordFailure(span, databaseError('22P02', 'invalid input syntax for type integer: "secret-4f2a"'), describePgFailure);
    span.end();
    const { attributes, status, events } = finished('db-error');
    expect(attributes).toEqual({ 'db.response.status_code': '22P02', 'error.type': '22P02' });
    expect(status).toEqual({ code: 2, message: 'PostgreSQL error 22P02' });
    expect(events[0]!.attributes!['exception.type']).toBe('22P02');
    expect(events[0]!.attributes!['exception.message']).toBe('PostgreSQL error 22P02');
    expect(String(events[0]!.attributes!['exception.stacktrace'])).toMatch(/^DatabaseError: PostgreSQL error 22P02\n {4}at /);
    const { name, status: exported, attributes: all, events: recorded } = finished('db-error');
    expect(JSON.stringify({ name, exported, all, recorded })).not.toContain('secret-4f2a');
  });

  it('tells database errors from Node errors with a code', () => {
    expect(sqlState(databaseError('23505', 'x'))).toBe('23505');
    expect(sqlState(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }))).toBeUndefined();
    expect(sqlState({ code: '23505' })).toBeUndefined();
    expect(sqlState('23505')).toBeUndefined();
  });

  it('records other errors as they are: their code, else their class name, else _OTHER', () => {
    const refused = tracer.startSpan('refused');
    recordFailure(refused, Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), describePgFailure);
    refused.end();
    expect(finished('refused').attributes).toEqual({ 'error.type': 'ECONNREFUSED' });
    expect(finished('refused').status).toEqual({ code: 2, message: 'connect ECONNREFUSED 127.0.0.1:1' });

    const terminated = tracer.startSpan('terminated');
    recordFailure(terminated, new TypeError('Client was passed a null or undefined query'), describePgFailure);
    terminated.end();
    expect(finished('terminated').attributes).toEqual({ 'error.type': 'TypeError' });

    const odd = tracer.startSpan('odd');
    recordFailure(odd, undefined, describePgFailure);
    odd.end();
    expect(finished('odd').attributes).toEqual({ 'error.type': '_OTHER' });
    expect(finished('odd').status.code).toBe(2);
  });
});

describe('pg calls through an Outcome', () => {
  it('hand the caller a promise that settles like pg’s, after the span ended', async () => {
    const span = tracer.startSpan('resolved');
    await expect(outcome.promise(span, Promise.resolve('rows'))).resolves.toBe('rows');
    expect(finished('resolved').status.code).toBe(0);

    const failure = databaseError('42601', 'syntax error');
    const failing = tracer.startSpan('rejected');
    await expect(outcome.promise(failing, Promise.reject(failure))).rejects.toBe(failure);
    expect(finished('rejected').attributes['error.type']).toBe('42601');
  });

  it('leave a rejection nobody handles unhandled, as without the agent', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const failure = new Error('nobody listens');
      void outcome.promise(tracer.startSpan('ignored'), Promise.reject(failure));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([failure]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('end the span of a synchronous throw and rethrow it; end it at once for a non-promise result', () => {
    const failure = new TypeError('callback is not a function');
    expect(() =>
      outcome.call(
        tracer.startSpan('threw'),
        () => {
          throw failure;
        },
        undefined,
        [],
        false,
      ),
    ).toThrow(failure);
    expect(finished('threw').attributes['error.type']).toBe('TypeError');
    expect(outcome.call(tracer.startSpan('plain'), () => 'value', undefined, [], false)).toBe('value');
    expect(finished('plain').endTime).toBeDefined();
  });
});

describe('withTraceparent (sqlcommenter)', () => {
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  const comment = "/*traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'*/";

  it('appends the traceparent, before any final semicolons and whitespace', () => {
    expect(withTraceparent('SELECT 1', spanContext)).toBe(`SELECT 1 ${comment}`);
    expect(withTraceparent('SELECT 1;\n ', spanContext)).toBe(`SELECT 1 ${comment};\n `);
    expect(withTraceparent('SELECT 1; SELECT 2;', spanContext)).toBe(`SELECT 1; SELECT 2 ${comment};`);
    expect(withTraceparent('SELECT 1', { ...spanContext, traceFlags: 0 })).toBe(
      "SELECT 1 /*traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'*/",
    );
  });

  it('leaves texts that already hold a comment, or nothing, alone', () => {
    expect(withTraceparent("SELECT 1 /*controller='x'*/", spanContext)).toBeUndefined();
    expect(withTraceparent('SELECT 1 -- note', spanContext)).toBeUndefined();
    expect(withTraceparent(' ;', spanContext)).toBeUndefined();
  });
});

describe('describeStatement', () => {
  it('analyses a text once and keeps the result', () => {
    const first = describeStatement("SELECT * FROM users WHERE email = 'a@b.c'");
    expect(first).toEqual({ text: 'SELECT * FROM users WHERE email = ?', summary: 'SELECT users' });
    expect(describeStatement("SELECT * FROM users WHERE email = 'a@b.c'")).toBe(first);
    expect(describeStatement('-- nothing')).toEqual({ text: undefined, summary: undefined });
  });
});
