// Preload entry for ES module and CommonJS applications alike: `node --import ./register.mjs app.js`.
// The agent itself is CommonJS, so both entries share one copy and one start.
import { createRequire } from 'node:module';

globalThis[Symbol.for('tracelet.preload')] = 'import';
createRequire(import.meta.url)('./register.cjs');
