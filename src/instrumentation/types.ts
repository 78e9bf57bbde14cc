import type { Context, Tracer } from '@opentelemetry/api';
import type { AgentConfig } from '../config/env';

/** What an instrumentation receives when it is installed: everything it may touch of the agent. */
export interface InstrumentationContext {
  /** Tracer whose scope is this instrumentation (`tracelet/<name>`). */
  readonly tracer: Tracer;
  readonly config: AgentConfig;
  /**
   * Reports a failure of the instrumentation's own code (once per instrumentation); the caller
   * then carries on with the original behaviour.
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
export interface ModulePatch {
  /** Package name or builtin ('pg', '@redis/client', 'http'). */
  readonly module: string;
  /** A file inside the package, relative to its root with '/' separators; absent for the main export. */
  readonly file?: string;
  /** Semver range of the package version; for builtins, of the Node version ('*' for any). */
  readonly versions: string;
  /**
   * For a patch of a package's main export: whether an ES module importing the package itself
   * must see it (default true). That needs import-in-the-middle's import hook, which costs an
   * ES module application tens of milliseconds of startup (and, before Node 22.22/24.11, a
   * loader thread of its own), so a patch of a package that is in practice reached through
   * require (pg-pool, required by pg) says false. Internal files always arrive through require
   * and builtins are patched before the application's first import: neither needs the hook.
   */
  readonly importHook?: boolean;
  /**
   * Wraps what it needs on the CommonJS-shaped exports (for ESM imports the loader passes the
   * module's default export when it is CommonJS). Returning a value replaces the exports.
   */
  patch(exports: any, ctx: InstrumentationContext, target: PatchTarget): unknown;
  /** Restores what patch() wrapped. */
  unpatch?(exports: any): void;
}

/** A plain diagnostics_channel subscription. */
export interface ChannelSubscription {
  readonly channel: string;
  onMessage(message: any, ctx: InstrumentationContext): void;
}

/** Handlers for a diagnostics_channel TracingChannel (`tracing:<name>:start|end|asyncStart|asyncEnd|error`). */
export interface TracingChannelSubscription {
  readonly tracingChannel: string;
  start?(message: any, ctx: InstrumentationContext): void;
  end?(message: any, ctx: InstrumentationContext): void;
  asyncStart?(message: any, ctx: InstrumentationContext): void;
  asyncEnd?(message: any, ctx: InstrumentationContext): void;
  error?(message: any, ctx: InstrumentationContext): void;
  /**
   * The context the traced function runs in, computed from the start message (typically one with
   * a new span active). Undefined keeps the caller's context.
   */
  bindContext?(message: any, ctx: InstrumentationContext): Context | undefined;
}

/** The one small interface every unit under instrumentations/ implements. */
export interface Instrumentation {
  /** The key of OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS. */
  readonly name: string;
  readonly patches?: readonly ModulePatch[];
  readonly channels?: readonly ChannelSubscription[];
  readonly tracingChannels?: readonly TracingChannelSubscription[];
}
