import { diag } from '../diag/logger';
import { markProcessExiting, markProcessRunning } from './exiting';

/** What the exit handlers flush. */
export interface Flushable {
  /** True while spans wait to be exported (or an export is running). */
  hasPendingSpans(): boolean;
  forceFlush(): Promise<void>;
  /** Synchronous, for the 'exit' event. */
  flushAtExit(timeoutMs: number): void;
}

/** The metrics flushed alongside the spans: a last collection and export. */
export interface MetricsFlushable {
  /** True when something was recorded (or time passed) since the last export. */
  hasPendingMetrics(): boolean;
  forceFlush(): Promise<void>;
  /** Synchronous, for the 'exit' event. */
  flushAtExit(timeoutMs: number): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Flushes pending spans (and metrics, when on) when the process ends, without changing how it ends:
 * - beforeExit (the event loop ran dry): an asynchronous flush, holding the loop open meanwhile;
 * - exit (process.exit(), an uncaught exception, or after beforeExit): a synchronous last flush;
 * - SIGTERM/SIGINT: when the application listens for the signal, it decides what happens and we
 *   only flush; when it does not, Node's default (terminate by the signal) is restored after the
 *   flush by re-raising the signal with our listener removed.
 * Every flush is bounded by timeoutMs. Returns a function that removes the handlers.
 */
export function installExitHandlers(target: Flushable, timeoutMs: number, metrics?: MetricsFlushable): () => void {
  let flushing: Promise<void> | undefined;

  const flush = (): Promise<void> => {
    if (flushing === undefined) {
      markProcessExiting();
      const keepAlive = setTimeout(() => undefined, timeoutMs);
      let deadline: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, timeoutMs);
        deadline.unref();
      });
      const flushed = Promise.all([target.forceFlush().catch(() => undefined), metrics?.forceFlush().catch(() => undefined)]);
      flushing = Promise.race([flushed.then(() => undefined), timedOut]).finally(() => {
        clearTimeout(keepAlive);
        clearTimeout(deadline);
        flushing = undefined;
        markProcessRunning();
      });
    }
    return flushing;
  };

  // Only with work to do: a flush started for nothing would keep re-arming beforeExit.
  const onBeforeExit = (): void => {
    if (target.hasPendingSpans() || metrics?.hasPendingMetrics() === true) void flush();
  };

  const onExit = (): void => {
    markProcessExiting();
    try {
      target.flushAtExit(timeoutMs);
    } catch (error) {
      diag.error(`could not flush spans at exit: ${String(error)}`);
    }
    try {
      metrics?.flushAtExit(timeoutMs);
    } catch (error) {
      diag.error(`could not flush metrics at exit: ${String(error)}`);
    }
  };

  const received = new Set<NodeJS.Signals>();
  const raiseDefault = (signal: NodeJS.Signals): void => {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) {
      // The application handles this signal: it decides whether and when to exit.
      void flush();
      return;
    }
    // A second Ctrl-C does not wait for the flush.
    if (received.has(signal)) return raiseDefault(signal);
    received.add(signal);
    void flush().then(() => raiseDefault(signal));
  };

  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);

  return () => {
    process.removeListener('beforeExit', onBeforeExit);
    process.removeListener('exit', onExit);
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  };
}
