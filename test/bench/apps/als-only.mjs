// Preloaded instead of the agent to measure what the platform charges for context propagation
// alone: one active AsyncLocalStorage (on Node 20 it turns on promise hooks for the process).
import { AsyncLocalStorage } from 'node:async_hooks';
import { Server } from 'node:http';

const storage = new AsyncLocalStorage();
const emit = Server.prototype.emit;
Server.prototype.emit = function (event, ...args) {
  return event === 'request' ? storage.run({ request: args[0] }, () => emit.call(this, event, ...args)) : emit.call(this, event, ...args);
};
