// What every benchmark application shares: it announces its port on stdout and answers the
// orchestrator's 'memory' and 'cpu' questions over IPC (so no extra HTTP route is measured).
export function announce(port) {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('message', (message) => {
    if (message === 'memory') process.send(process.memoryUsage());
    else if (message === 'cpu') process.send(process.cpuUsage());
  });
}
