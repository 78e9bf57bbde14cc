import { diag } from '../diag/logger';
import { packageVersion } from './package-version';

/**
 * Tells the user which well-known packages the application loaded that no instrumentation covers:
 * one info line for everything loaded in the same turn of the event loop (the whole startup of a
 * typical application), then one more line per later turn that loads new ones. Each package is
 * named once per process. It only looks at the package's name and version, never its exports.
 */
export class UninstrumentedReporter {
  private readonly watched: ReadonlySet<string>;
  private readonly reported = new Set<string>();
  private pending: string[] = [];

  constructor(
    names: readonly string[],
    private readonly schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
  ) {
    this.watched = new Set(names);
  }

  /**
   * A require or import hook saw `name` load: a package's main export ('mongodb') or, when the
   * hook reports internal files, one of its files ('mongodb/lib/index.js'). `baseDir` is the
   * package's directory.
   */
  onLoad(name: string, baseDir: string | undefined): void {
    const pkg = packageNameOf(name);
    if (!this.watched.has(pkg) || this.reported.has(pkg)) return;
    this.reported.add(pkg);
    const version = baseDir === undefined ? undefined : majorMinor(packageVersion(baseDir));
    if (this.pending.length === 0) this.schedule(() => this.flush());
    this.pending.push(version === undefined ? pkg : `${pkg} ${version}`);
  }

  private flush(): void {
    const loaded = this.pending;
    this.pending = [];
    if (loaded.length > 0) diag.info(`loaded without instrumentation: ${loaded.join(', ')}`);
  }
}

/** 'mongodb/lib/index.js' -> 'mongodb', '@prisma/client/runtime/x.js' -> '@prisma/client' (either separator). */
export function packageNameOf(name: string): string {
  const parts = name.split(/[\\/]/);
  return name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** '6.8.1' -> '6.8'; undefined for anything that is not a version. */
export function majorMinor(version: string | undefined): string | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  return match === null ? undefined : `${match[1]}.${match[2]}`;
}
