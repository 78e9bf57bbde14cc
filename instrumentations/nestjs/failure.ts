import type { Context, Span } from '@opentelemetry/api';
import { getServerRequest, type ServerRequest } from '../../src/instrumentation/http-server-request';
import type { Outcome } from '../../src/instrumentation/outcome';

/**
 * An exception is recorded on the span where it was thrown, not again on the spans it then passes
 * through on its way to Nest's exception filters: with `all`, a pipe's BadRequestException is the
 * pipe span's (not also the handler's, which runs the pipes), a handler's exception the handler
 * span's (not also the interceptors' around it). An interceptor that throws an exception of its
 * own in place of the one it got has it recorded on its span. Kept per request (the last exception
 * recorded), so an exception object an application reuses is recorded in every request it fails.
 */
const lastRecorded = new WeakMap<ServerRequest, unknown>();

/** Ends `span` (started in `context`) failed with `error`, or succeeded if a span inside it recorded that error. */
export function endFailed(outcome: Outcome, span: Span, context: Context, error: unknown): void {
  if (!span.isRecording()) return;
  try {
    const request = getServerRequest(context);
    if (request !== undefined && error !== null && typeof error === 'object') {
      if (lastRecorded.get(request) === error) {
        outcome.end(span);
        return;
      }
      lastRecorded.set(request, error);
    }
  } catch (failure) {
    outcome.ctx.reportError(failure);
  }
  outcome.fail(span, error);
}
