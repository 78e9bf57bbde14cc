import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const versions = new Map<string, string | undefined>();

/**
 * The version in `<baseDir>/package.json`, read once per package directory. Runs while the
 * application is loading that package anyway (require is synchronous), never on a request path.
 */
export function packageVersion(baseDir: string): string | undefined {
  if (versions.has(baseDir)) return versions.get(baseDir);
  let version: string | undefined;
  try {
    const parsed = JSON.parse(readFileSync(join(baseDir, 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof parsed.version === 'string') version = parsed.version;
  } catch {
    version = undefined;
  }
  versions.set(baseDir, version);
  return version;
}

const loadedVersions = new Map<string, string>();

/** Remembers the version of a hooked package the application loaded (the first copy loaded wins). */
export function recordLoadedVersion(module: string, version: string): void {
  if (!loadedVersions.has(module)) loadedVersions.set(module, version);
}

/** The version of `module` the hooks saw load, if they did. */
export function loadedPackageVersion(module: string): string | undefined {
  return loadedVersions.get(module);
}
