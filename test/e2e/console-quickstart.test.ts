import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runApp } from '../helpers/run-app';

/** The README's quickstart (`npm run example`): what a newcomer sees first. */
describe('the quickstart example', () => {
  it('prints its trace in the line CI looks for, with the insights its handler provokes, quickly', async () => {
    const started = Date.now();
    const result = await runApp({
      script: join(REPO_ROOT, 'examples/quickstart/app.mjs'),
      env: { OTEL_SERVICE_NAME: 'quickstart', OTEL_TRACES_EXPORTER: 'console' },
    });
    const elapsed = Date.now() - started;
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^GET \/users\/42 -> 200 /m);
    expect(out.match(/^trace [0-9a-f]{32} {2}service quickstart/gm)).toHaveLength(1);
    expect(out).toMatch(/^◆ {4}└─ GET +server .*\] {2}\/users\/42 /m);
    expect(out).toMatch(/^ {4}critical path \(◆\): 16 spans, /m);
    expect(out).toMatch(/^ {4}N\+1: GET \/items\/\{id\} ×4 under GET \/users\/42 \(.*, one after another\)$/m);
    expect(out).toMatch(/^ {4}sequential: GET \/prices → GET \/stock under GET \/users\/42 ran one after another \(2 calls, /m);
    expect(out).not.toContain('\x1b[');
    expect(elapsed).toBeLessThan(5_000); // about half a second on an idle machine
  });
});
