// Bundles the agent into one CommonJS file, dist/tracelet.js. Startup cost is a feature of an
// agent: resolving and reading some fifty small modules costs tens of milliseconds at preload on
// a slow machine, one file a fraction of that. Runtime dependencies stay external packages.
import { build } from 'esbuild';

const pkg = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')));

await build({
  entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
  outfile: new URL('../dist/tracelet.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18.19',
  external: Object.keys(pkg.dependencies),
  legalComments: 'none',
  // Less to parse at preload; identifiers are kept, so stack traces still name our functions.
  // TRACELET_BUNDLE_READABLE=1 keeps lines and layout, for reading CPU profiles (node --cpu-prof).
  minifyWhitespace: process.env.TRACELET_BUNDLE_READABLE === undefined,
  minifySyntax: process.env.TRACELET_BUNDLE_READABLE === undefined,
  logLevel: 'warning',
});
