import { subscribe, tracingChannel, unsubscribe, type TracingChannelSubscribers } from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from '@opentelemetry/api';
import { diag } from '../diag/logger';
import { loadedPackageVersion } from '../loader/package-version';
import type { Instrumentation, InstrumentationContext, TracingChannelSubscription } from './types';

type Unsubscribe = () => void;
type Handler = (message: unknown, name: string | symbol) => void;
const TRACING_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

/**
 * Says once, at debug, that a channel-based instrumentation is active and on which library
 * version, when its first message arrives (until then nothing publishes, so it is not). Handlers
 * test `pending` only: after the first message, or when debug is off, that is all they pay.
 */
class ActivityNote {
  pending = diag.enabled('debug');

  constructor(private readonly instrumentation: Instrumentation) {}

  note(message: unknown): void {
    this.pending = false;
    const source = this.instrumentation.channelSource;
    if (source === undefined) {
      diag.debug(`${this.instrumentation.name}: active (diagnostics channels)`);
      return;
    }
    let version: string | undefined;
    try {
      version = loadedPackageVersion(source.module) ?? source.version?.(message);
    } catch {
      version = undefined;
    }
    diag.debug(`${this.instrumentation.name}: active on ${source.module}@${version ?? '(unknown version)'} (diagnostics channels)`);
  }
}

/**
 * Subscribes an instrumentation to the diagnostics_channel events it names. Every handler is
 * guarded: an exception is reported and never reaches the library that published; once the
 * instrumentation is switched off, its handlers do nothing.
 * Returns a function that undoes the subscriptions.
 */
export function subscribeChannels(instrumentation: Instrumentation, ctx: InstrumentationContext, storage: AsyncLocalStorage<Context>): Unsubscribe {
  const undo: Unsubscribe[] = [];
  const activity = new ActivityNote(instrumentation);
  for (const subscription of instrumentation.channels ?? []) {
    const handler: Handler = (message) => {
      if (activity.pending) activity.note(message);
      if (!ctx.enabled) return;
      try {
        subscription.onMessage(message, ctx);
      } catch (error) {
        ctx.reportError(error);
      }
    };
    subscribe(subscription.channel, handler);
    undo.push(() => unsubscribe(subscription.channel, handler));
  }
  for (const subscription of instrumentation.tracingChannels ?? []) {
    if (typeof tracingChannel !== 'function') continue; // Node < 18.19
    undo.push(subscribeTracingChannel(subscription, ctx, storage, activity));
  }
  return () => {
    for (const fn of undo) fn();
  };
}

function subscribeTracingChannel(
  subscription: TracingChannelSubscription,
  ctx: InstrumentationContext,
  storage: AsyncLocalStorage<Context>,
  activity: ActivityNote,
): Unsubscribe {
  const channel = tracingChannel(subscription.tracingChannel);
  const handlers: Partial<Record<(typeof TRACING_EVENTS)[number], Handler>> = {};
  for (const event of TRACING_EVENTS) {
    const fn = subscription[event];
    if (fn === undefined) continue;
    handlers[event] = (message) => {
      if (activity.pending) activity.note(message);
      if (!ctx.enabled) return;
      try {
        fn.call(subscription, message, ctx);
      } catch (error) {
        ctx.reportError(error);
      }
    };
  }
  channel.subscribe(handlers as TracingChannelSubscribers<object>);
  const bindContext = subscription.bindContext;
  if (bindContext !== undefined) {
    // The traced function then runs with the context the subscription chose (e.g. its new span).
    channel.start.bindStore(storage, (message) => {
      if (!ctx.enabled) return storage.getStore()!;
      try {
        return bindContext.call(subscription, message, ctx) ?? storage.getStore()!;
      } catch (error) {
        ctx.reportError(error);
        return storage.getStore()!;
      }
    });
  }
  return () => {
    channel.unsubscribe(handlers as TracingChannelSubscribers<object>);
    if (bindContext !== undefined) channel.start.unbindStore(storage);
  };
}
