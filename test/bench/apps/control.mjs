// What every benchmark application shares: it announces its port on stdout and answers the
// orchestrator's 'memory' and 'cpu' questions over IPC (so no extra HTTP route is measured).
import { getHeapSpaceStatistics } from 'node:v8';

export function announce(port) {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('message', (message) => {
    if (message === 'memory') process.send({ ...process.memoryUsage(), youngGeneration: youngGenerationBytes() });
    else if (message === 'cpu') process.send(process.cpuUsage());
  });
}

/**
 * The size V8 gave its young generation (new space): V8 doubles it, up to 32 MB by default on
 * Node 20, as objects keep surviving its scavenges, and the growth shows in the RSS.
 */
function youngGenerationBytes() {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}
