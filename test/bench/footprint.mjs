// Install footprint: what `npm install tracelet` puts on disk, measured by packing the agent and
// installing the tarball with production dependencies only into an empty directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/processes.mjs';

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export function measureFootprint() {
  const dir = mkdtempSync(join(tmpdir(), 'tracelet-footprint-'));
  try {
    // The build already ran (npm run bench builds first); packing must not rebuild.
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], REPO_ROOT));
    npm(['init', '-y'], dir);
    npm(['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed.filename)], dir);
    const modules = join(dir, 'node_modules');
    const packages = listPackages(modules);
    return {
      bytes: diskBytes(modules),
      packages: packages.length,
      names: packages.sort(),
      tarballBytes: packed.size,
      unpackedBytes: packed.unpackedSize,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes of all files under a directory (their sizes, not the blocks they occupy). */
export function diskBytes(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + diskBytes(join(path, entry)), 0);
}

export function listPackages(modules) {
  const names = [];
  if (!existsSync(modules)) return names;
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const scoped of readdirSync(join(modules, entry)))
        names.push(`${entry}/${scoped}`, ...listPackages(join(modules, entry, scoped, 'node_modules')));
    } else {
      names.push(entry, ...listPackages(join(modules, entry, 'node_modules')));
    }
  }
  return names;
}
