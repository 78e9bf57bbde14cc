import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FIXTURES, REPO_ROOT } from './run-app';

export interface AppDirOptions {
  /** package.json of the application (omit for none). */
  readonly packageJson?: Record<string, unknown>;
  /** Fixture files copied into the app directory (names under test/e2e/fixtures). */
  readonly fixtures?: readonly string[];
  /** Fake packages from test/e2e/fixtures/packages, installed under node_modules; `name@version` rewrites the version. */
  readonly packages?: readonly string[];
  /** Real packages of this repository linked into the app's node_modules. */
  readonly links?: readonly string[];
  /**
   * Packages of this repository installed under an alias, given to the app under their real name
   * (name -> installed alias), in a way module hooks recognise (see realNameCopy).
   */
  readonly aliases?: Readonly<Record<string, string>>;
  /**
   * The same, as symlinks: the package keeps resolving its own dependencies from this
   * repository (for packages hooked by channel rather than by module name).
   */
  readonly linkedAliases?: Readonly<Record<string, string>>;
  /** A copy of @opentelemetry/api whose package.json claims this version. */
  readonly apiVersion?: string;
}

/**
 * A copy of an aliased install (`undici-v5`, `ioredis-v5-10`) under its real package name, kept in
 * this repository's node_modules cache: module hooks know a package by the directory it lives in
 * (`node_modules/<name>/`), and from there its own dependencies still resolve to this repository's
 * node_modules. Made once; concurrent test files race safely (copy, then rename).
 */
function realNameCopy(name: string, installed: string): string {
  const target = join(REPO_ROOT, 'node_modules', '.cache', 'tracelet-aliases', installed, 'node_modules', name);
  if (existsSync(join(target, 'package.json'))) return target;
  const staging = `${target}.staging-${process.pid}`;
  cpSync(join(REPO_ROOT, 'node_modules', installed), staging, { recursive: true, dereference: true });
  try {
    renameSync(staging, target);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another test file made it first
  }
  return target;
}

/** A throwaway application directory outside the repository, laid out as a user's would be. */
export function makeAppDir(options: AppDirOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'tracelet-app-'));
  if (options.packageJson !== undefined) writeFileSync(join(dir, 'package.json'), JSON.stringify(options.packageJson));
  for (const fixture of options.fixtures ?? []) cpSync(join(FIXTURES, fixture), join(dir, fixture));
  for (const spec of options.packages ?? []) {
    const [name, version] = spec.split('@') as [string, string | undefined];
    const target = join(dir, 'node_modules', name);
    cpSync(join(FIXTURES, 'packages', name), target, { recursive: true });
    if (version !== undefined) {
      const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
      writeFileSync(join(target, 'package.json'), JSON.stringify({ ...manifest, version }));
    }
  }
  for (const name of options.links ?? []) {
    const target = join(dir, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules', name), target, 'dir');
  }
  for (const [name, installed] of Object.entries(options.aliases ?? {})) {
    const target = join(dir, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(realNameCopy(name, installed), target, 'dir');
  }
  for (const [name, installed] of Object.entries(options.linkedAliases ?? {})) {
    const target = join(dir, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules', installed), target, 'dir');
  }
  if (options.apiVersion !== undefined) {
    const target = join(dir, 'node_modules', '@opentelemetry', 'api');
    cpSync(join(REPO_ROOT, 'node_modules', '@opentelemetry', 'api'), target, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
    writeFileSync(join(target, 'package.json'), JSON.stringify({ ...manifest, version: options.apiVersion }));
  }
  return dir;
}
