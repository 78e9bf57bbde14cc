import { isBuiltin } from 'node:module';
import type { DiagLogger } from '@opentelemetry/api';
import { setContextManager, setPropagator } from './api/active';
import { API_VERSION, registeredApiVersion, registerGlobal } from './api/globals';
import { INSTRUMENTATIONS } from '../instrumentations';
import { parseConfig, parseSettings, type AgentConfig, type Env } from './config/env';
import { AsyncLocalStorageContextManager } from './context/async-local-storage-context-manager';
import { diag } from './diag/logger';
import { BatchSpanProcessor } from './export/batch-span-processor';
import { JsonEncoder } from './export/otlp/json-encoder';
import { OtlpHttpExporter } from './export/otlp/otlp-http-exporter';
import { ProtobufEncoder } from './export/otlp/protobuf-encoder';
import type { SpanProcessor } from './export/types';
import { subscribeChannels } from './instrumentation/channels';
import { createInstrumentationContext } from './instrumentation/context';
import type { Instrumentation, InstrumentationContext } from './instrumentation/types';
import { installExitHandlers } from './lifecycle/exit-handlers';
import { apiVersionWatcher, checkInstalledApiVersion } from './loader/api-version-check';
import { detectBundledModules } from './loader/bundle-detect';
import { entryIsEsm, installImportHook } from './loader/import-hook';
import { warnAboutPreloadedModules } from './loader/preloaded';
import { PatchRegistry, type RegisteredPatch } from './loader/registry';
import { installRequireHook, type WatchedModules } from './loader/require-hook';
import { KNOWN_UNINSTRUMENTED_NAMES } from './loader/known-packages';
import { packageManagerOf } from './loader/package-manager';
import { UninstrumentedReporter } from './loader/uninstrumented';
import { describeMetrics, startMetrics } from './metrics/setup';
import { createPropagator } from './propagation/composite';
import { detectResource } from './trace/resource';
import { createSampler } from './trace/sampler';
import { AgentTracerProvider } from './trace/tracer-provider';
import type { Resource } from './trace/types';
import { AGENT_NAME, AGENT_VERSION } from './version';

export interface StartOptions {
  /** Where OTEL_* variables are read from (default: process.env). */
  readonly env?: Env;
  /** Instrumentations to install in addition to the built-in ones (e.g. your own). */
  readonly instrumentations?: readonly Instrumentation[];
}

/** The running agent. */
export interface Agent {
  readonly config: AgentConfig;
  readonly resource: Resource;
  readonly tracerProvider: AgentTracerProvider;
  readonly contextManager: AsyncLocalStorageContextManager;
  /** Names of the installed instrumentations. */
  readonly instrumentations: readonly string[];
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const AGENT_KEY = Symbol.for(`${AGENT_NAME}.agent`);
const BUNDLE_CHECK_DELAY_MS = 2_000;
/** One small file read, soon after startup but off its path. */
const API_CHECK_DELAY_MS = 100;

type AgentGlobal = typeof globalThis & { [AGENT_KEY]?: Agent | null };

/**
 * Starts the agent once per process: configuration from OTEL_* variables, the tracing SDK behind
 * @opentelemetry/api, module hooks for the enabled instrumentations, and exit handling.
 * Returns undefined when the agent is disabled or cannot start; never throws.
 */
export function start(options: StartOptions = {}): Agent | undefined {
  const global = globalThis as AgentGlobal;
  if (global[AGENT_KEY] !== undefined) {
    diag.debug('the agent was loaded more than once (e.g. by --require and --import); the first start stays in charge');
    return global[AGENT_KEY] ?? undefined;
  }
  global[AGENT_KEY] = null;
  try {
    const agent = startOnce(options);
    global[AGENT_KEY] = agent ?? null;
    return agent;
  } catch (error) {
    diag.error(`the agent could not start and is inactive; the application runs without tracing: ${String(error)}`);
    return undefined;
  }
}

function startOnce(options: StartOptions): Agent | undefined {
  const env = options.env ?? process.env;
  const { config, warnings } = parseConfig(env);
  if (config.disabled) return undefined;
  diag.setLevel(config.logLevel);
  // NODE_OPTIONS reaches the package manager that starts the application as well: stay out of it.
  const packageManager = packageManagerOf();
  if (packageManager !== undefined) {
    diag.debug(`not starting in ${packageManager}'s own process (${process.argv[1]}); the application it runs gets the agent`);
    return undefined;
  }
  for (const warning of warnings) diag.warn(warning);

  const resource = detectResource(config);
  const tracerProvider = new AgentTracerProvider({
    sampler: createSampler(config.sampler, config.samplerRatio),
    limits: config.limits,
    processors: createProcessors(config, resource),
  });
  const contextManager = new AsyncLocalStorageContextManager();
  registerGlobals(config, tracerProvider, contextManager);

  const instrumentations = selectInstrumentations(config, [...INSTRUMENTATIONS, ...(options.instrumentations ?? [])]);
  // Before the instrumentations: the ones that read the recorder once see it set.
  const metrics = startMetrics(config, resource);
  const stopChannels = installInstrumentations(env, instrumentations, tracerProvider, contextManager);
  const removeExitHandlers = installExitHandlers(tracerProvider, Math.min(config.batch.exportTimeoutMs, config.otlp.timeoutMs), metrics);

  diag.info(
    `${AGENT_NAME} ${AGENT_VERSION} started: service.name=${resource.serviceName}, exporter=${describeExporters(config)}, ` +
      `sampler=${tracerProvider.sampler}, propagators=${config.propagators.join(',') || 'none'}, ` +
      `instrumentations=${instrumentations.map((i) => i.name).join(',') || 'none'}, metrics=${describeMetrics(config, metrics)}`,
  );

  return {
    config,
    resource,
    tracerProvider,
    contextManager,
    instrumentations: instrumentations.map((i) => i.name),
    async forceFlush() {
      await Promise.all([tracerProvider.forceFlush(), metrics?.forceFlush()]);
    },
    async shutdown() {
      stopChannels();
      removeExitHandlers();
      await Promise.all([tracerProvider.shutdown(), metrics?.shutdown()]);
    },
  };
}

function createProcessors(config: AgentConfig, resource: Resource): SpanProcessor[] {
  return config.exporters.map((name) => {
    if (name === 'otlp') {
      const encoder = config.otlp.protocol === 'http/json' ? new JsonEncoder(resource) : new ProtobufEncoder(resource);
      return new BatchSpanProcessor(encoder, new OtlpHttpExporter(config.otlp, encoder), config.batch);
    }
    // Loaded only when asked for: most services never print traces to stdout.
    const console = require('./export/console-span-processor') as typeof import('./export/console-span-processor');
    return new console.ConsoleSpanProcessor(new console.ConsoleTreePrinter(resource));
  });
}

function describeExporters(config: AgentConfig): string {
  if (config.exporters.length === 0) return 'none';
  return config.exporters.map((name) => (name === 'otlp' ? `otlp ${config.otlp.protocol} ${config.otlp.tracesUrl}` : name)).join(' + ');
}

/**
 * Makes the SDK the one @opentelemetry/api serves (without loading the API package), and says so
 * when something else got there first.
 */
function registerGlobals(config: AgentConfig, tracerProvider: AgentTracerProvider, contextManager: AsyncLocalStorageContextManager): void {
  const propagator = createPropagator(config.propagators);
  setContextManager(contextManager);
  setPropagator(propagator);
  const registered = [
    ['context manager', registerGlobal('context', contextManager)],
    ['propagator', registerGlobal('propagation', propagator)],
    ['tracer provider', registerGlobal('trace', tracerProvider)],
  ] as const;
  // The API's own complaints (an application registering another SDK) reach stderr too.
  registerGlobal('diag', apiDiagBridge(config.logLevel));
  const refused = registered.filter(([, ok]) => !ok).map(([what]) => what);
  if (refused.length > 0) {
    diag.warn(
      `another OpenTelemetry SDK (@opentelemetry/api ${registeredApiVersion() ?? 'unknown'}) already registered the global ${refused.join(', ')}; ` +
        'spans made through @opentelemetry/api go there, not to this agent. Remove the other SDK setup, or do not load this agent',
    );
  }
}

const API_LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'verbose'] as const;

/** A DiagLogger for @opentelemetry/api's global: its messages, one line each, through ours. */
function apiDiagBridge(level: AgentConfig['logLevel']): DiagLogger {
  const bridge = {} as Record<(typeof API_LOG_LEVELS)[number], (message: string, ...args: unknown[]) => void>;
  for (const name of API_LOG_LEVELS) {
    bridge[name] = level !== 'none' && diag.enabled(name) ? (message, ...args) => diag[name](format(message, args)) : () => undefined;
  }
  return bridge;
}

/** One line per message: the API passes error stacks, of which the first line says it all. */
function format(message: string, args: unknown[]): string {
  const text = args.length === 0 ? String(message) : `${message} ${args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ')}`;
  return text.split('\n', 1)[0]!;
}

/** OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS, with unknown names reported. */
export function selectInstrumentations(config: AgentConfig, available: readonly Instrumentation[]): Instrumentation[] {
  const known = new Set(available.map((instrumentation) => instrumentation.name));
  const check = (variable: string, names: readonly string[] | undefined): void => {
    const unknown = (names ?? []).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      diag.warn(`${variable} names unknown instrumentations (${unknown.join(', ')}); known: ${[...known].join(', ') || 'none'}`);
    }
  };
  check('OTEL_NODE_ENABLED_INSTRUMENTATIONS', config.enabledInstrumentations);
  check('OTEL_NODE_DISABLED_INSTRUMENTATIONS', config.disabledInstrumentations);
  return available.filter(
    (instrumentation) =>
      (config.enabledInstrumentations === undefined || config.enabledInstrumentations.includes(instrumentation.name)) &&
      !config.disabledInstrumentations.includes(instrumentation.name),
  );
}

/** One require hook and (for ESM applications) one import hook over the modules the instrumentations name. */
function installInstrumentations(
  env: Env,
  instrumentations: readonly Instrumentation[],
  tracerProvider: AgentTracerProvider,
  contextManager: AsyncLocalStorageContextManager,
): () => void {
  const apiWatcher: Instrumentation = {
    name: 'opentelemetry-api-version-check',
    patches: [apiVersionWatcher(registeredApiVersion() ?? API_VERSION)],
  };
  const patches: RegisteredPatch[] = [];
  const unsubscribers: Array<() => void> = [];
  const settingsWarnings = new Set<string>();
  for (const instrumentation of [...instrumentations, apiWatcher]) {
    const ctx = instrumentationContext(instrumentation, env, tracerProvider, settingsWarnings);
    for (const patch of instrumentation.patches ?? []) patches.push({ instrumentation, patch, context: ctx });
    unsubscribers.push(subscribeChannels(instrumentation, ctx, contextManager.storage));
  }
  // The instrumentations of one family (http and fetch) read the same variables: one warning each.
  for (const warning of settingsWarnings) diag.warn(warning);
  const registry = new PatchRegistry(patches);
  const hooked = registry.moduleNames;
  const packages = hooked.filter((name) => !isBuiltin(name) && name !== '@opentelemetry/api');
  const watched = watchUninstrumented(hooked);
  installRequireHook(registry, watched);
  if (entryIsEsm()) prepareForImports(registry, patches, watched);
  if (hooked.length > 0) warnAboutPreloadedModules(packages);
  if (packages.length > 0) {
    const timer = setTimeout(() => void detectBundledModules(process.argv[1], packages, registry.seen), BUNDLE_CHECK_DELAY_MS);
    timer.unref();
  }
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}

/** The well-known packages no enabled instrumentation covers, reported at info when they load. */
function watchUninstrumented(hooked: readonly string[]): WatchedModules {
  const names = KNOWN_UNINSTRUMENTED_NAMES.filter((name) => !hooked.includes(name));
  const reporter = new UninstrumentedReporter(names);
  return { names, onLoad: (name, baseDir) => reporter.onLoad(name, baseDir) };
}

/**
 * An ES module application imports its libraries without require(). The CommonJS packages it
 * imports are caught when Node loads them (see installRequireHook), and load their own files
 * through require, so most patches need nothing more. The rest:
 * - builtins (http, https) are required and patched now, before the application's first import
 *   reads their exports (and exports already read are brought up to date);
 * - main exports of packages that may be genuine ES modules get import-in-the-middle's hook;
 *   none of the agent's own instrumentations needs it, so its startup cost is paid only for
 *   instrumentations passed to start() that do;
 * - the application's own copy of @opentelemetry/api, an ES module there, is checked on disk.
 */
function prepareForImports(registry: PatchRegistry, patches: readonly RegisteredPatch[], watched: WatchedModules): void {
  const mainPatched = patches.filter((p) => p.patch.file === undefined).map((p) => p.patch);
  const builtins = new Set(mainPatched.filter((patch) => isBuiltin(patch.module)).map((patch) => patch.module));
  for (const name of builtins) require(name);
  if (builtins.size > 0) (require('node:module') as typeof import('node:module')).syncBuiltinESMExports();
  const imported = new Set(mainPatched.filter((patch) => !isBuiltin(patch.module) && patch.importHook !== false).map((patch) => patch.module));
  if (imported.size === 0) diag.debug('no import hook needed: the instrumented packages are CommonJS, caught when an ES module imports them');
  else if (installImportHook(registry, [...imported], watched)) diag.debug(`import hook installed for ${[...imported].join(', ')}`);
  const entry = process.argv[1];
  if (entry !== undefined) {
    const timer = setTimeout(() => void checkInstalledApiVersion(entry, registeredApiVersion() ?? API_VERSION), API_CHECK_DELAY_MS);
    timer.unref();
  }
}

/** The context an instrumentation is installed with: its tracer and its own settings, read from `env`. */
function instrumentationContext(
  instrumentation: Instrumentation,
  env: Env,
  tracerProvider: AgentTracerProvider,
  warnings: Set<string>,
): InstrumentationContext {
  const tracer = tracerProvider.getTracer(`${AGENT_NAME}/${instrumentation.name}`, AGENT_VERSION);
  if (instrumentation.readSettings === undefined) return createInstrumentationContext(instrumentation.name, tracer, undefined);
  const parsed = parseSettings(env, (reader) => instrumentation.readSettings!(reader));
  for (const warning of parsed.warnings) warnings.add(warning);
  return createInstrumentationContext(instrumentation.name, tracer, parsed.settings);
}
