import type { Context, Tracer } from '@opentelemetry/api';
import type { EnvReader } from '../config/env';

export type { EnvReader };

/**
 * What an instrumentation receives when it is installed: everything it may touch of the agent.
 * `S` is the type of its own settings (see Instrumentation.readSettings).
 */
export interface InstrumentationContext<S = unknown> {
  /** Tracer whose scope is this instrumentation (`tracelet/<name>`). */
  readonly tracer: Tracer;
  /** The instrumentation's own settings, read once when the agent started. */
  readonly settings: S;
  /**
   * False once the instrumentation has been switched off for failing repeatedly: its wrappers
   * (see wrap()) and channel subscribers then leave every call to the library.
   */
  readonly enabled: boolean;
  /**
   * Reports a failure of the instrumentation's own code (said once; repeated failures switch the
   * instrumentation off); the caller then carries on with the original behaviour.
   */
  reportError(error: unknown): void;
  /**
   * Says once (at info) that a library version this instrumentation met at run time (e.g. through
   * a diagnostics channel) is outside what it supports, so it leaves that library alone.
   */
  reportUnsupported(module: string, version: string, range: string): void;
}

/** Facts about the module a patch is applied to. */
export interface PatchTarget {
  /** The package (or builtin) name, e.g. 'pg' or 'http'. */
  readonly module: string;
  /** The installed version (Node's version for builtins). */
  readonly version: string;
  /** True when the module came through `import` rather than `require`. */
  readonly viaImport: boolean;
}

/**
 * One patch of one module layout. Declare one ModulePatch per file layout or version range
 * rather than branching inside patch().
 */
export interface ModulePatch<S = unknown> {
  /** Package name or builtin ('pg', '@redis/client', 'http'). */
  readonly module: string;
  /** A file inside the package, relative to its root with '/' separators; absent for the main export. */
  readonly file?: string;
  /** Semver range of the package version; for builtins, of the Node version ('*' for any). */
  readonly versions: string;
  /**
   * For a patch of a package's main export: whether the package may be a genuine ES module, so
   * that its imports need import-in-the-middle's hook (default true, the safe choice for a package
   * not known). That hook costs an ES module application tens of milliseconds of startup (and,
   * before Node 22.22/24.11, a loader thread of its own). A CommonJS package says false: an ES
   * module importing it makes Node load its main file without require(), where the require hook
   * catches it too (every library the agent instruments is CommonJS). Internal files always
   * arrive through require and builtins are patched before the application's first import:
   * neither needs the hook.
   */
  readonly importHook?: boolean;
  /**
   * Wraps what it needs on the CommonJS-shaped exports (for ESM imports the loader passes the
   * module's default export when it is CommonJS). Returning a value replaces the exports.
   */
  patch(exports: unknown, ctx: InstrumentationContext<S>, target: PatchTarget): unknown;
  /** Restores what patch() wrapped. */
  unpatch?(exports: unknown): void;
}

/** A plain diagnostics_channel subscription. */
export interface ChannelSubscription<S = unknown> {
  readonly channel: string;
  onMessage(message: unknown, ctx: InstrumentationContext<S>): void;
}

/** Handlers for a diagnostics_channel TracingChannel (`tracing:<name>:start|end|asyncStart|asyncEnd|error`). */
export interface TracingChannelSubscription<S = unknown> {
  readonly tracingChannel: string;
  start?(message: unknown, ctx: InstrumentationContext<S>): void;
  end?(message: unknown, ctx: InstrumentationContext<S>): void;
  asyncStart?(message: unknown, ctx: InstrumentationContext<S>): void;
  asyncEnd?(message: unknown, ctx: InstrumentationContext<S>): void;
  error?(message: unknown, ctx: InstrumentationContext<S>): void;
  /**
   * The context the traced function runs in, computed from the start message (typically one with
   * a new span active). Undefined keeps the caller's context.
   */
  bindContext?(message: unknown, ctx: InstrumentationContext<S>): Context | undefined;
}

/** The one small interface every unit under instrumentations/ implements. */
export interface Instrumentation<S = unknown> {
  /** The key of OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS. */
  readonly name: string;
  /**
   * Reads the instrumentation's own OTEL_INSTRUMENTATION_* variables, once, when the agent
   * starts; a bad value becomes a warning and the default. Absent: the settings are undefined.
   */
  readSettings?(env: EnvReader): S;
  readonly patches?: readonly ModulePatch<S>[];
  readonly channels?: readonly ChannelSubscription<S>[];
  readonly tracingChannels?: readonly TracingChannelSubscription<S>[];
  /** Who publishes on `channels` and `tracingChannels`, named in the debug line saying the instrumentation is active. */
  readonly channelSource?: ChannelSource;
}

/** The library behind an instrumentation's diagnostics channels. */
export interface ChannelSource {
  /** Its package name ('undici', 'fastify'). */
  readonly module: string;
  /**
   * Its version, from the first message published (e.g. a Fastify instance's `version`) or from
   * the runtime (Node's bundled undici), for when the module hooks did not see it load.
   */
  version?(message: unknown): string | undefined;
}
