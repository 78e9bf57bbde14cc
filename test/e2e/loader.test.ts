import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDir } from '../helpers/app-dir';
import { receiverForEachTest, type ReceivedSpan } from '../helpers/otlp-receiver';
import { agentLines, FIXTURES, REPO_ROOT, runApp } from '../helpers/run-app';

const TEST_PRELOAD = join(FIXTURES, 'register-test-instrumentation.cjs');
const LOG_RESOLUTIONS = join(FIXTURES, 'log-resolutions.mjs');
const EXPECTED_OUTPUT = 'hello <ada>\nhello <bob>\n';

const receiver = receiverForEachTest();

const names = (spans: ReceivedSpan[]) => spans.map((span) => span.name).sort();

function greeterApp(greeterVersion = '1.5.0') {
  return makeAppDir({
    packageJson: { name: 'greeter-app', version: '1.0.0' },
    fixtures: ['greeter-app.cjs', 'greeter-app.mjs', 'greeter-commonjs-app.mjs', 'greeter-trip.cjs', 'greeter-keeps-tripping.cjs'],
    packages: [`fake-greeter@${greeterVersion}`, 'fake-esm', 'fake-other'],
  });
}

function run(dir: string, script: string, preloadFlag: '--require' | '--import', env: Record<string, string> = {}, execArgv: string[] = []) {
  return runApp({
    script: join(dir, script),
    cwd: dir,
    preload: 'none',
    execArgv: [preloadFlag, TEST_PRELOAD, ...execArgv],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint, ...env },
  });
}

/** greet() runs decorate() from the internal file and publishes a channel message, both inside its span. */
function expectGreetTree(spans: ReceivedSpan[], who: string): void {
  const greet = spans.find((span) => span.name === `greet ${who}`)!;
  expect(greet).toBeDefined();
  const children = spans
    .filter((span) => span.parentSpanId === greet.spanId)
    .map((span) => span.name)
    .sort();
  expect(children).toEqual(['decorate', `ping ${who}`]);
  expect(greet.scope.name).toBe('tracelet/greeter');
}

/** greeter-app.cjs (or greeter-commonjs-app.mjs) ran unchanged, and both greet() calls were traced in full. */
async function expectGreeterTraced(result: { code: number | null; stdout: string }): Promise<void> {
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(EXPECTED_OUTPUT);
  const spans = await receiver().waitForSpans(6);
  expect(names(spans)).toEqual(['decorate', 'decorate', 'greet ada', 'greet bob', 'ping ada', 'ping bob']);
  expectGreetTree(spans, 'ada');
  expectGreetTree(spans, 'bob');
}

describe('the instrumentation framework, through a test instrumentation', () => {
  it('patches a CommonJS package, one of its internal files and a channel, behaviour unchanged (require)', async () => {
    const dir = greeterApp();
    const result = await run(dir, 'greeter-app.cjs', '--require', { OTEL_LOG_LEVEL: 'debug' });
    await expectGreeterTraced(result);
    const lines = agentLines(result.stderr).join('\n');
    expect(lines).toContain('debug: greeter: patched fake-greeter@1.5.0');
    expect(lines).toContain('debug: greeter: patched fake-greeter@1.5.0 (lib/internal.js)');
  });

  it('contains a patch that throws: reported once, the module loads and works untouched', async () => {
    const dir = greeterApp();
    const result = await run(dir, 'greeter-app.cjs', '--require');
    expect(result.stdout).toBe(EXPECTED_OUTPUT);
    const errors = agentLines(result.stderr).filter((line) => line.includes('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('broken: patching fake-greeter@1.5.0 failed, so it runs uninstrumented: Error: the library changed its internals');
  });

  it('contains a failure of an instrumentation at call time: the call proceeds as without the agent, reported once', async () => {
    const dir = greeterApp();
    const bare = await runApp({ script: join(dir, 'greeter-trip.cjs'), cwd: dir, preload: 'none' });
    const result = await run(dir, 'greeter-trip.cjs', '--require');
    expect(result.stdout).toBe(bare.stdout);
    expect(result.stdout).toBe('hello <trip>\nhello <trip>\nhello <ada>\n');
    const errors = agentLines(result.stderr).filter((line) => line.includes('the greeter instrumentation failed'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('Error: instrumentation defect');
    // The other patches (internal file, channel) still work on the tripped calls; greet 'ada' is whole.
    const spans = await receiver().waitForSpans(7);
    expect(names(spans)).toEqual(['decorate', 'decorate', 'decorate', 'greet ada', 'ping ada', 'ping trip', 'ping trip']);
    expectGreetTree(spans, 'ada');
  });

  it('switches an instrumentation that keeps failing off, says so once, and leaves the calls untouched', async () => {
    const dir = greeterApp();
    const bare = await runApp({ script: join(dir, 'greeter-keeps-tripping.cjs'), cwd: dir, preload: 'none' });
    const result = await run(dir, 'greeter-keeps-tripping.cjs', '--require');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(bare.stdout);
    expect(result.stdout).toBe(`${'hello <trip>\n'.repeat(12)}hello <ada>\n`);
    const lines = agentLines(result.stderr);
    expect(lines.filter((line) => line.includes('the greeter instrumentation failed and stepped aside'))).toHaveLength(1);
    const switchedOff = lines.filter((line) => line.includes('switched off'));
    expect(switchedOff).toHaveLength(1);
    expect(switchedOff[0]).toContain('warn: the greeter instrumentation failed 10 times and is switched off');
    // Until the 10th failure its other patch (the internal file) and its channel still made
    // spans; from then on none of its wrappers or subscribers does anything, greet('ada') included.
    const spans = await receiver().waitForSpans(18);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver().spans).toHaveLength(18);
    expect(names(spans)).toEqual([...Array(9).fill('decorate'), ...Array(9).fill('ping trip')]);
  });

  // retry: in two of five full compat runs on Node 18.19 (both the first run of a fresh checkout)
  // the resolution log lacked the wrapper URL of fake-greeter while its spans were all there; not
  // reproduced alone or under parallel load. The joined lines below show what resolved if it recurs.
  it('patches ES module imports too: default and named imports of CommonJS, and a genuine ES module', { retry: 2 }, async () => {
    const dir = greeterApp();
    const result = await run(dir, 'greeter-app.mjs', '--import', {}, ['--import', LOG_RESOLUTIONS]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${EXPECTED_OUTPUT}HEY!\n`);
    const spans = await receiver().waitForSpans(7);
    expect(names(spans)).toEqual(['decorate', 'decorate', 'greet ada', 'greet bob', 'ping ada', 'ping bob', 'shout']);
    expectGreetTree(spans, 'ada');
    expectGreetTree(spans, 'bob');
    // Only the modules an instrumentation names go through the import-in-the-middle wrapper.
    const resolved = result.stderr.split('\n').filter((line) => line.startsWith('RESOLVED '));
    expect(resolved.join('\n')).toMatch(/fake-greeter\/index\.js\?iitm=true/);
    expect(resolved.join('\n')).toMatch(/fake-esm\/index\.js\?iitm=true/);
    expect(resolved.some((line) => line.includes('fake-other/index.js'))).toBe(true);
    expect(resolved.filter((line) => line.includes('fake-other')).every((line) => !line.includes('iitm'))).toBe(true);
  });

  it('patches a CommonJS package an ES module imports without any import hook when its patch says CommonJS', async () => {
    const dir = greeterApp();
    const result = await runApp({
      script: join(dir, 'greeter-commonjs-app.mjs'),
      cwd: dir,
      preload: 'none',
      execArgv: ['--import', join(FIXTURES, 'register-commonjs-instrumentation.cjs'), '--import', LOG_RESOLUTIONS],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint, OTEL_LOG_LEVEL: 'debug' },
    });
    await expectGreeterTraced(result);
    const lines = agentLines(result.stderr).join('\n');
    expect(lines).toContain('debug: no import hook needed: the instrumented packages are CommonJS, caught when an ES module imports them');
    expect(lines).toContain('debug: greeter: patched fake-greeter@1.5.0');
    // Nothing went through import-in-the-middle's wrapper: the main file was caught as it loaded.
    const resolved = result.stderr.split('\n').filter((line) => line.startsWith('RESOLVED '));
    expect(resolved.some((line) => line.includes('fake-greeter/index.js'))).toBe(true);
    expect(resolved.filter((line) => line.includes('iitm'))).toEqual([]);
  });

  it('leaves a version outside the supported range untouched, and says so', async () => {
    const dir = greeterApp('2.0.0');
    const result = await run(dir, 'greeter-app.cjs', '--require');
    expect(result.stdout).toBe(EXPECTED_OUTPUT);
    expect(agentLines(result.stderr).join('\n')).toContain(
      'info: fake-greeter@2.0.0 is outside what the greeter instrumentation supports (>=1 <2); it runs uninstrumented',
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver().spans.filter((span) => span.name.startsWith('greet'))).toEqual([]);
  });

  it('selects instrumentations with OTEL_NODE_DISABLED_INSTRUMENTATIONS', async () => {
    const dir = greeterApp();
    const result = await run(dir, 'greeter-app.mjs', '--import', { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'greeter,broken' });
    expect(result.stdout).toBe(`${EXPECTED_OUTPUT}HEY!\n`);
    expect(agentLines(result.stderr).filter((line) => !line.includes('started'))).toEqual([]);
    const spans = await receiver().waitForSpans(1);
    expect(names(spans)).toEqual(['shout']);
  });

  it('selects instrumentations with OTEL_NODE_ENABLED_INSTRUMENTATIONS and reports unknown names', async () => {
    const dir = greeterApp();
    const result = await run(dir, 'greeter-app.mjs', '--import', { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'greeter,bogus' });
    expect(result.stdout).toBe(`${EXPECTED_OUTPUT}HEY!\n`);
    expect(agentLines(result.stderr).join('\n')).toContain('OTEL_NODE_ENABLED_INSTRUMENTATIONS names unknown instrumentations (bogus)');
    const spans = await receiver().waitForSpans(6);
    expect(spans.some((span) => span.name === 'shout')).toBe(false);
  });

  it('warns about an instrumented package loaded before the agent started', async () => {
    const dir = greeterApp();
    const result = await runApp({
      script: join(FIXTURES, 'late-start.cjs'),
      cwd: dir,
      preload: 'none',
      env: {
        NODE_PATH: join(dir, 'node_modules'),
        TRACELET_DIST: join(REPO_ROOT, 'dist/tracelet.js'),
        TEST_INSTRUMENTATIONS: join(FIXTURES, 'test-instrumentations.cjs'),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint,
      },
    });
    expect(result.stdout).toBe('hello <late>\n');
    expect(agentLines(result.stderr).join('\n')).toContain('fake-greeter was loaded before the agent started, so it is not instrumented');
  });

  it('warns when the instrumented package is compiled into a bundle', async () => {
    const result = await runApp({
      script: join(FIXTURES, 'bundled-app.cjs'),
      preload: 'none',
      execArgv: ['--require', TEST_PRELOAD],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint },
    });
    expect(result.stdout).toBe('bundle ran\n');
    expect(agentLines(result.stderr).join('\n')).toContain('is a bundle that contains fake-greeter; code inside a bundle cannot be instrumented');
  });
});
