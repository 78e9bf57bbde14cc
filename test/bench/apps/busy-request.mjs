// Preloaded instead of the agent to calibrate the machine: no agent, but every request costs the
// server BENCH_BUSY_MICROS more CPU (a busy loop before the application sees it). Its ratio reads
// what a fixed per-request cost does to throughput here, to compare the agent's with.
import { Server } from 'node:http';

const micros = Number(process.env.BENCH_BUSY_MICROS ?? 5);
const emit = Server.prototype.emit;
Server.prototype.emit = function (event, ...args) {
  if (event === 'request') {
    const end = performance.now() + micros / 1000;
    while (performance.now() < end);
  }
  return emit.call(this, event, ...args);
};
