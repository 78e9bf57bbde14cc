/**
 * Trace ids in pino records: while a span is active, every record a pino logger writes carries
 * `trace_id`, `span_id` and `trace_flags` (OpenTelemetry's log correlation fields), whatever the
 * destination: stdout, pino.destination(), pino.transport() targets, multistream.
 *
 * What is patched, and why there: pino's lib/proto.js, the prototype every logger shares. pino()
 * calls the prototype's setLevel once on each new logger, after it has set the logger's own
 * options; the wrapped setLevel then gives that logger a mixin (pino's own hook for adding fields
 * to every record) combined with the application's mixin and merge strategy. Child loggers inherit
 * it from their root. Patching an internal file rather than pino's main export leaves `pino`,
 * `pino.default`, `pino.pino`, `pino.destination`, `pino.transport` and the ES module's named
 * exports exactly as they are, and needs no import hook: `import pino from 'pino'` loads this file
 * through require.
 *
 * The rules:
 * - No valid active span: the record is exactly what it was without the agent (the log call's own
 *   object goes to pino untouched; the application's mixin and merge strategy run as before).
 * - An unsampled span still gives its ids, with trace_flags '00'.
 * - A record whose log call object or application mixin already has trace_id, span_id or
 *   trace_flags is left as the application made it. Otherwise the application's mixin fields join
 *   ours, and the log call's fields win over both (pino's rule).
 * - OTEL_NODE_LOG_CORRELATION=false leaves pino unpatched.
 *
 * Supported: pino 7 to 10.
 *
 * Known limitations:
 * - With the `nestedKey` option, pino nests the fields under that key, as it does every mixin field.
 * - A child logger whose bindings hold trace_id gets a second trace_id key (pino writes bindings
 *   and record fields side by side).
 */
import type { Instrumentation, InstrumentationContext } from '../../src/instrumentation/types';
import { unwrap, wrap } from '../../src/instrumentation/wrap';
import { readLogCorrelationSettings, type LogCorrelationSettings } from '../shared/log-correlation';
import { addTraceMixin, type MixinSlots } from './mixin';

/** lib/proto.js's export: makes the object each new logger inherits from (pino's shared prototype). */
type PrototypeFactory = () => object;

const SET_LEVEL = 'pino.setLevel';

export const pinoInstrumentation: Instrumentation<LogCorrelationSettings> = {
  name: 'pino',
  readSettings: readLogCorrelationSettings,
  patches: [
    {
      module: 'pino',
      file: 'lib/proto.js',
      versions: '>=7 <11',
      patch(factory: PrototypeFactory, ctx) {
        if (!ctx.settings.logCorrelation) return;
        const prototype = sharedPrototype(factory);
        const setLevel = symbolNamed(prototype, SET_LEVEL);
        if (setLevel === undefined) throw new Error(`no ${SET_LEVEL} on pino's prototype`);
        wrap(ctx, prototype, setLevel, (original: Function) => adoptOnSetLevel(original, ctx));
      },
      unpatch(factory: PrototypeFactory) {
        const prototype = sharedPrototype(factory);
        const setLevel = symbolNamed(prototype, SET_LEVEL);
        if (setLevel !== undefined) unwrap(prototype, setLevel);
      },
    },
  ],
};

function sharedPrototype(factory: PrototypeFactory): object {
  return Object.getPrototypeOf(factory()) as object;
}

/** pino's symbols are public (pino.symbols) but this file is reached before them: found by their descriptions. */
function symbolNamed(target: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(target).find((symbol) => symbol.description === description);
}

/** setLevel as before; on a root logger (which holds its own mixin slot) it then adds the trace mixin. */
function adoptOnSetLevel(original: Function, ctx: InstrumentationContext<LogCorrelationSettings>): Function {
  let slots: MixinSlots | undefined;
  return function setLevel(this: Record<symbol, unknown>) {
    // setLevel's arguments, passed on as pino gave them
    const result = Reflect.apply(original, this, arguments) as unknown;
    try {
      slots ??= mixinSlots(this);
      if (slots !== undefined && Object.prototype.hasOwnProperty.call(this, slots.mixin)) addTraceMixin(this, slots, ctx);
    } catch (error) {
      ctx.reportError(error);
    }
    return result;
  };
}

function mixinSlots(logger: object): MixinSlots | undefined {
  const mixin = symbolNamed(logger, 'pino.mixin');
  const mergeStrategy = symbolNamed(logger, 'pino.mixinMergeStrategy');
  return mixin === undefined || mergeStrategy === undefined ? undefined : { mixin, mergeStrategy };
}
