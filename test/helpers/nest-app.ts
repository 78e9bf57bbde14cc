import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { satisfies } from '../../src/instrumentation/version-range';
import { startFrameworkApp, type FrameworkApp } from './framework-app';
import { APP_NODE_VERSION, REPO_ROOT, type Preload } from './run-app';

/**
 * The NestJS applications of the end-to-end tests. Nest majors cannot share one node_modules
 * tree (every @nestjs/* package peers on the others' major), so each is an npm workspace under
 * test/apps/ (npm may hoist one of them to the repository's node_modules). An application gets a
 * node_modules of symlinks to the real directories its workspace resolves: each package keeps
 * resolving its own dependencies (express, fastify, path-to-regexp...) from where it is installed,
 * and module hooks see it under `node_modules/@nestjs/core/`.
 */

export type NestMajor = 10 | 11;
export type NestAdapter = 'express' | 'fastify';

const WORKSPACES: Record<NestMajor, string> = { 10: 'test/apps/nest10', 11: 'test/apps/nest11' };

/** What the fixture application requires. */
const PACKAGES = ['@nestjs/core', '@nestjs/common', '@nestjs/platform-express', '@nestjs/platform-fastify', 'reflect-metadata', 'rxjs'] as const;

export interface NestInstall {
  readonly major: NestMajor;
  /** @nestjs/core's version. */
  readonly version: string;
  /** @nestjs/core's engines.node, if any. */
  readonly engines: string | undefined;
  /** Package name -> the real directory it is installed in. */
  readonly dirs: Readonly<Record<string, string>>;
}

/** The real directory of a package as `require` resolves it from `from` (package.json need not be exported). */
function packageDir(from: NodeJS.Require, name: string): string {
  for (const base of from.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return realpathSync(dir);
  }
  throw new Error(`${name} is not installed for ${from.resolve.paths(name)?.[0]}`);
}

const installs = new Map<NestMajor, NestInstall>();

export function nestInstall(major: NestMajor): NestInstall {
  let install = installs.get(major);
  if (install === undefined) {
    const from = createRequire(join(REPO_ROOT, WORKSPACES[major], 'package.json'));
    const dirs = Object.fromEntries(PACKAGES.map((name) => [name, packageDir(from, name)]));
    const manifest = JSON.parse(readFileSync(join(dirs['@nestjs/core']!, 'package.json'), 'utf8')) as {
      version: string;
      engines?: { node?: string };
    };
    install = { major, version: manifest.version, engines: manifest.engines?.node, dirs };
    installs.set(major, install);
  }
  return install;
}

/** True when the applications' Node can run this Nest major (Nest 11 needs Node 20). */
export function nestRunsOnAppNode(major: NestMajor): boolean {
  const { engines } = nestInstall(major);
  return engines === undefined || satisfies(APP_NODE_VERSION, engines);
}

export interface NestAppOptions {
  readonly major: NestMajor;
  readonly adapter: NestAdapter;
  readonly script: 'nest-app.cjs' | 'nest-app.mjs';
  readonly preload: Preload;
  readonly env?: Record<string, string>;
}

/**
 * Starts the fixture application on this Nest major and adapter. Its banner is `[version,
 * adapter]`. makeAppDir links `<repository>/node_modules/<target>` for each linked alias: a target
 * relative to that directory reaches each package's real directory, wherever its workspace put it.
 */
export function startNestApp(options: NestAppOptions): Promise<FrameworkApp> {
  const { dirs } = nestInstall(options.major);
  const modules = join(REPO_ROOT, 'node_modules');
  const linkedAliases = Object.fromEntries(Object.entries(dirs).map(([name, dir]) => [name, relative(modules, dir)]));
  return startFrameworkApp({
    script: options.script,
    preload: options.preload,
    framework: 'nest',
    dir: { fixtures: ['nest-app-build.cjs'], linkedAliases },
    env: { NEST_ADAPTER: options.adapter, ...options.env },
  });
}
