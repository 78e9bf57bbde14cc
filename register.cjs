'use strict';
// Preload entry: `node --require ./register.cjs app.js` (register.mjs serves --import).
// Written in plain, old-syntax JavaScript so that an unsupported Node gets a warning, not a
// crash, before any of the agent's code is parsed.
(function () {
  var version = process.versions.node.split('.').map(Number);
  var supported = version[0] > 20 || (version[0] === 20 && version[1] >= 6) || (version[0] === 18 && version[1] >= 19);
  if (!supported) {
    process.emitWarning('tracelet needs Node.js ^18.19.0 || >=20.6.0; running without tracing on ' + process.version);
    return;
  }
  if (String(process.env.OTEL_SDK_DISABLED).trim().toLowerCase() === 'true') return;
  // --require preloads also run in worker threads and in Node's module-hooks thread; the agent
  // belongs to the main thread. (--import preloads run there only, so register.mjs skips this.)
  var viaImport = globalThis[Symbol.for('tracelet.preload')] === 'import';
  if (!viaImport && !require('node:worker_threads').isMainThread) return;
  require('./dist/tracelet.js').start();
})();
