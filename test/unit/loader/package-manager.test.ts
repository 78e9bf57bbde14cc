import { describe, expect, it } from 'vitest';
import { packageManagerOf } from '../../../src/loader/package-manager';

const node = '/usr/bin/node';

describe('packageManagerOf', () => {
  it.each([
    ['/usr/lib/node_modules/npm/bin/npm-cli.js', 'npm'],
    ['/usr/bin/npm', 'npm'],
    ['/usr/lib/node_modules/npm/bin/npx-cli.js', 'npx'],
    ['/home/me/.nvm/versions/node/v22.0.0/bin/npx', 'npx'],
    ['/usr/lib/node_modules/yarn/bin/yarn.js', 'yarn'],
    ['/home/me/shop/.yarn/releases/yarn-4.5.0.cjs', 'yarn'],
    ['/usr/lib/node_modules/corepack/dist/yarn.js', 'yarn'],
    ['/usr/lib/node_modules/pnpm/bin/pnpm.cjs', 'pnpm'],
    ['/usr/lib/node_modules/corepack/dist/corepack.js', 'corepack'],
    ['C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js', 'npm'],
  ])('recognises %s as %s', (script, manager) => {
    expect(packageManagerOf([node, script], {})).toBe(manager);
  });

  it('leaves applications alone, even the ones a package manager started (they inherit npm_execpath)', () => {
    const env = { npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js' };
    expect(packageManagerOf([node, '/srv/shop/server.js'], env)).toBeUndefined();
    expect(packageManagerOf([node, '/srv/shop/dist/main.mjs'], env)).toBeUndefined();
    expect(packageManagerOf([node, '/srv/npm-mirror/index.js'], env)).toBeUndefined();
    expect(packageManagerOf([node, '/srv/shop/yarnish.js'], {})).toBeUndefined();
  });

  it('recognises a package manager at an unusual path by npm_execpath naming this very script', () => {
    expect(packageManagerOf([node, '/opt/tools/bun-shim/cli.js'], { npm_execpath: '/opt/tools/bun-shim/cli.js' })).toBe('cli.js');
  });

  it('leaves the REPL and `node -e` alone', () => {
    expect(packageManagerOf([node], { npm_execpath: '/usr/bin/npm' })).toBeUndefined();
  });
});
