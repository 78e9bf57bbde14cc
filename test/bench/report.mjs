// Turns the benchmark's measurements into the Markdown report (test/bench/RESULTS.md): each
// figure beside its budget, medians with their min–max spread, ratios against the baseline
// measured in the same run.
import { SCENARIOS, VARIANTS } from './throughput.mjs';
import { fixed, max, MB, mb, median, spread, table, verdict } from './lib/stats.mjs';

/**
 * Budgets derived from the platform's floor (what one AsyncLocalStorage costs, measured in the
 * same run), not fixed throughput targets: see the README's Performance section.
 */
export const BUDGETS = {
  startupMs: 30,
  firstResponseMs: 40,
  rssAboveBaselineBytes: 10 * MB,
  outageGrowthBytes: 10 * MB,
  footprintBytes: 3 * MB,
  /** Added caller CPU of one instrumented client call above the AsyncLocalStorage floor. */
  callMicros: 5,
  /** Sampling off: CPU per request above the AsyncLocalStorage-only variant. */
  unsampledMicros: 1,
  /** Recording a request's duration metric (and checking the keep rules), sampled or not: well under a microsecond. */
  metricsMicros: 0.5,
  /** Heap a duration record allocates, averaged over a million records of repeated attribute sets. */
  metricsBytesPerRecord: 1,
  /** Sampled at 100%: CPU per request above the AsyncLocalStorage-only variant, per span. */
  perSpanMicros: 3,
};

/** Per-round ratios of a variant's throughput to the baseline's in the same round. */
export function ratios(runs, variant) {
  return runs[variant].map((run, round) => run.rps / runs.baseline[round].rps);
}

/** Growth of RSS under the outage: the peak of the second half of the samples over the first's. */
export function outageGrowth(rss) {
  const half = Math.ceil(rss.length / 2);
  return max(rss.slice(half)) - max(rss.slice(0, half));
}

export function budgetRows(results) {
  const rows = [];
  for (const { scenario, runs } of results.throughput ?? []) {
    if (runs.agent === undefined) continue;
    const ratio = median(ratios(runs, 'agent'));
    rows.push([
      `${scenario.title} throughput, agent / baseline`,
      fixed(ratio, 3),
      `≥ ${scenario.budget}`,
      verdict(ratio >= scenario.budget && runs.agent.every((run) => run.valid)),
    ]);
    if (runs.als !== undefined) {
      const floor = cpuPerRequest(runs, 'als');
      const spans = median(runs.agent.map((run) => run.spans / run.requests));
      const added = cpuPerRequest(runs, 'agent') - floor;
      rows.push([
        `${scenario.title} CPU per request above AsyncLocalStorage only, ${fixed(spans, 0)} spans`,
        `+${fixed(added, 1)} µs (${fixed(added / spans, 1)} µs a span)`,
        `≤ ${BUDGETS.perSpanMicros} µs a span`,
        verdict(added / spans <= BUDGETS.perSpanMicros),
      ]);
      for (const variant of ['unsampled', 'ratio']) {
        if (runs[variant] === undefined) continue;
        const above = cpuPerRequest(runs, variant) - floor;
        rows.push([
          `${scenario.title} CPU per request, ${VARIANTS[variant].title.replace('agent, ', '')}, above AsyncLocalStorage only`,
          `${above >= 0 ? '+' : ''}${fixed(above, 1)} µs`,
          `≤ ${BUDGETS.unsampledMicros} µs`,
          verdict(above <= BUDGETS.unsampledMicros),
        ]);
      }
    }
    rows.push(...instructionBudgetRows(results, scenario));
    const rssDelta = median(runs.agent.map((run) => run.memory.rss)) - median(runs.baseline.map((run) => run.memory.rss));
    rows.push([
      `${scenario.title} RSS after load, above baseline`,
      `${mb(rssDelta)} MB`,
      `≤ ${mb(BUDGETS.rssAboveBaselineBytes, 0)} MB`,
      verdict(rssDelta <= BUDGETS.rssAboveBaselineBytes),
    ]);
  }
  for (const [kind, calls] of Object.entries(results.micro?.calls ?? {})) {
    const added = median(calls.wrappedCpu) - median(calls.alsCpu);
    rows.push([
      `${CALL_TITLES[kind]}: caller CPU per call above AsyncLocalStorage only`,
      `${added >= 0 ? '+' : ''}${fixed(added, 1)} µs`,
      `≤ ${BUDGETS.callMicros} µs`,
      verdict(added <= BUDGETS.callMicros),
    ]);
    // A call made inside a request the sampler left out is part of that request's cost, whose budget is the unsampled one.
    if (calls.unsampledCpu !== undefined) {
      const unsampled = median(calls.unsampledCpu) - median(calls.alsCpu);
      rows.push([
        `${CALL_TITLES[kind]}, sampler always_off: caller CPU per call above AsyncLocalStorage only`,
        `${unsampled >= 0 ? '+' : ''}${fixed(unsampled, 1)} µs`,
        `≤ ${BUDGETS.unsampledMicros} µs`,
        verdict(unsampled <= BUDGETS.unsampledMicros),
      ]);
    }
  }
  const callRate = instructionRate(results, CALLS_RATE_SCENARIO);
  for (const [kind, { als, wrapped }] of Object.entries(Number.isFinite(callRate) ? results.instructions.callKinds : {})) {
    const added = (wrapped.instructions - als.instructions) / callRate;
    rows.push([
      `${CALL_TITLES[kind]}: per call above AsyncLocalStorage only (callgrind ≈ µs)`,
      instructionsAndMicros(wrapped.instructions - als.instructions, callRate),
      `≤ ${BUDGETS.callMicros} µs`,
      verdict(added <= BUDGETS.callMicros && als.valid && wrapped.valid),
    ]);
  }
  if (results.startup) {
    const delta = median(results.startup.empty.import) - median(results.startup.empty.bare);
    rows.push([
      'Startup, `node --import ./register.mjs -e 0` over `node -e 0`',
      `+${fixed(delta, 1)} ms`,
      `≤ ${BUDGETS.startupMs} ms`,
      verdict(delta <= BUDGETS.startupMs),
    ]);
    const firstResponse = median(results.startup.firstResponse.import) - median(results.startup.firstResponse.bare);
    rows.push([
      'Fastify app, time to first response, agent over no agent',
      `${firstResponse >= 0 ? '+' : ''}${fixed(firstResponse, 1)} ms`,
      `≤ ${BUDGETS.firstResponseMs} ms`,
      verdict(firstResponse <= BUDGETS.firstResponseMs),
    ]);
  }
  if (results.outage) {
    const growth = outageGrowth(results.outage.rss);
    rows.push([
      `RSS growth during ${results.outage.seconds} s of load with the collector down`,
      `${mb(growth)} MB`,
      `≤ ${mb(BUDGETS.outageGrowthBytes, 0)} MB (bounded)`,
      verdict(growth <= BUDGETS.outageGrowthBytes),
    ]);
  }
  const metrics = results.micro?.metrics;
  if (metrics) {
    for (const [name, nanos] of Object.entries(metrics.results)) {
      rows.push([
        `${name.replace(/ record, ns$/, '')}: recording one request (micro-benchmark)`,
        `${fixed(nanos / 1000, 3)} µs`,
        `≤ ${BUDGETS.metricsMicros} µs`,
        verdict(nanos / 1000 <= BUDGETS.metricsMicros),
      ]);
    }
    const allocated = Math.max(...Object.values(metrics.heap).map((heap) => heap.allocatedBytes)) / metrics.records;
    rows.push([
      `Duration metrics: heap allocated per record over ${fixed(metrics.records)} records of repeated attribute sets`,
      `${fixed(allocated, 2)} bytes`,
      `≤ ${BUDGETS.metricsBytesPerRecord} byte (nothing per request)`,
      verdict(allocated <= BUDGETS.metricsBytesPerRecord),
    ]);
  }
  if (results.footprint) {
    rows.push([
      'Production install footprint',
      `${mb(results.footprint.bytes, 2)} MB, ${results.footprint.packages} packages`,
      `≤ ${mb(BUDGETS.footprintBytes, 0)} MB`,
      verdict(results.footprint.bytes <= BUDGETS.footprintBytes),
    ]);
  }
  return rows;
}

function throughputSection(throughput) {
  const out = [];
  for (const { scenario, runs } of throughput) {
    // The other agents of --peers have their own section, "Side by side".
    const variants = Object.keys(runs).filter((variant) => !VARIANTS[variant].peer);
    const rows = variants.map((variant) => {
      const list = runs[variant];
      const perRound =
        variant === 'baseline'
          ? '—'
          : ratios(runs, variant)
              .map((r) => fixed(r, 3))
              .join(', ');
      const medianRatio = variant === 'baseline' ? '1' : fixed(median(ratios(runs, variant)), 3);
      const spansPerRequest = VARIANTS[variant].exports ? fixed(median(list.map((run) => run.spans / run.requests)), 2) : '—';
      const invalid = list.filter((run) => !run.valid).map((run) => run.problem);
      return [
        VARIANTS[variant].title,
        spread(list.map((run) => run.rps)),
        medianRatio,
        perRound,
        cpuCell(runs, variant),
        `${fixed(median(list.map((run) => run.p50)), 1)} / ${fixed(median(list.map((run) => run.p99)), 1)}`,
        spansPerRequest,
        `${mb(median(list.map((run) => run.memory.rss)))} / ${mb(median(list.map((run) => run.memory.heapUsed)))}`,
        invalid.length === 0 ? 'yes' : `**no**: ${invalid.join('; ')}`,
      ];
    });
    out.push(
      `### ${scenario.title}`,
      '',
      table(
        [
          'variant',
          'req/s median (min–max)',
          'ratio',
          'ratio per round',
          'server CPU µs per request (added)',
          'latency p50 / p99 ms',
          'spans per request',
          'RSS / heap MB after load',
          'valid',
        ],
        rows,
      ),
      '',
    );
  }
  return out;
}

/** CPU time per request is steadier than throughput: what the variant adds is work, not waiting. */
export function cpuPerRequest(runs, variant) {
  return median(runs[variant].map((run) => run.cpuPerRequest));
}

function cpuCell(runs, variant) {
  if (runs[variant].some((run) => run.cpuPerRequest === undefined)) return '—';
  const cpu = cpuPerRequest(runs, variant);
  return variant === 'baseline' ? fixed(cpu, 1) : `${fixed(cpu, 1)} (+${fixed(cpu - cpuPerRequest(runs, 'baseline'), 1)})`;
}

/** The callgrind counterparts of a scenario's CPU rows, converted at the run's rate (none without it). */
function instructionBudgetRows(results, scenario) {
  const rate = instructionRate(results, scenario.id);
  if (!Number.isFinite(rate)) return [];
  const { als, unsampledTracingOnly, unsampled, agent } = results.instructions.scenarios.find(
    (counted) => counted.scenario.id === scenario.id,
  ).variants;
  const spans = agent.spans / agent.requests;
  const added = agent.instructions - als.instructions;
  const above = unsampled.instructions - als.instructions;
  const measuring = unsampledTracingOnly === undefined ? undefined : unsampled.instructions - unsampledTracingOnly.instructions;
  return [
    [
      `${scenario.title} per request above AsyncLocalStorage only, ${fixed(spans, 0)} spans (callgrind ≈ µs)`,
      `${instructionsAndMicros(added, rate)} (${fixed(added / rate / spans, 1)} µs a span)`,
      `≤ ${BUDGETS.perSpanMicros} µs a span`,
      verdict(added / rate / spans <= BUDGETS.perSpanMicros && als.valid && agent.valid),
    ],
    [
      `${scenario.title} per request, ${VARIANTS.unsampled.title.replace('agent, ', '')}, above AsyncLocalStorage only (callgrind ≈ µs)`,
      instructionsAndMicros(above, rate),
      `≤ ${BUDGETS.unsampledMicros} µs`,
      verdict(above / rate <= BUDGETS.unsampledMicros && als.valid && unsampled.valid),
    ],
    ...(measuring === undefined
      ? []
      : [
          [
            `${scenario.title} per request, sampling off: what the duration metric and the keep rules add (callgrind ≈ µs)`,
            instructionsAndMicros(measuring, rate),
            `≤ ${BUDGETS.metricsMicros} µs`,
            verdict(measuring / rate <= BUDGETS.metricsMicros && unsampled.valid && unsampledTracingOnly.valid),
          ],
        ]),
  ];
}

const SCENARIO_TITLE = Object.fromEntries(SCENARIOS.map(({ id, title }) => [id, title]));

/** The calls have no server CPU of their own to convert with: they take the Fastify `/hello` rate. */
const CALLS_RATE_SCENARIO = 'fastify-hello';

/**
 * This machine's instructions per µs of CPU, from a scenario's baseline: its instructions per
 * request under callgrind over its server CPU µs per request in the throughput section of the
 * same run. NaN when either section did not measure it.
 */
export function instructionRate(results, scenarioId) {
  const throughput = results.throughput?.find(({ scenario }) => scenario.id === scenarioId);
  const counted = results.instructions?.scenarios?.find(({ scenario }) => scenario.id === scenarioId);
  if (throughput === undefined || counted === undefined || !counted.variants.baseline.valid) return NaN;
  return counted.variants.baseline.instructions / cpuPerRequest(throughput.runs, 'baseline');
}

/** "+12345 instructions ≈ +2.6 µs" */
function instructionsAndMicros(instructions, rate) {
  return `${signed(instructions, 0)} instructions ≈ ${signed(instructions / rate, 1)} µs`;
}

/** Instructions, and ≈ µs when the run measured its rate; a dash for a variant not measured. */
function instructionCell(instructions, rate) {
  if (instructions === undefined) return '—';
  return Number.isFinite(rate) ? `${fixed(instructions)} (≈ ${fixed(instructions / rate, 1)} µs)` : fixed(instructions);
}

/** What `instructions` adds over `floor`, with ≈ µs when the rate is known; a dash when not measured. */
function addedInstructions(instructions, floor, rate) {
  if (instructions === undefined) return '—';
  return Number.isFinite(rate) ? instructionsAndMicros(instructions - floor, rate) : signed(instructions - floor, 0);
}

const validCell = (runs) => {
  const invalid = runs.filter((run) => !run.valid).map((run) => run.problem);
  return invalid.length === 0 ? 'yes' : `**no**: ${invalid.join('; ')}`;
};

function instructionsSection(results) {
  const { instructions } = results;
  const out = ['## Instructions per request and per call (callgrind)', ''];
  if (instructions.skipped) return [...out, `Not measured: ${instructions.skipped}.`, ''];
  const { requests, warmupRequests, calls, warmupCalls, scenarios, callKinds, minutes } = instructions;
  const callRate = instructionRate(results, CALLS_RATE_SCENARIO);
  out.push(
    'CPU time per request moves by 5-15 µs from run to run on a shared machine; the instructions a process executes under `valgrind --tool=callgrind` repeat within a per cent or two, steady enough to judge costs of a few µs.',
    `Each application runs alone under callgrind with \`node --single-threaded --predictable-gc-schedule\` (V8 compiles and collects garbage on the main thread, its heap growing by fixed steps rather than by timers, so that work is counted alike every run), answers ${warmupRequests.hello} sequential keep-alive requests (${warmupRequests.work} for \`/work\`) to warm up, and then callgrind's counters are zeroed and ${requests} requests counted; each client call likewise, ${warmupCalls} calls then ${calls} counted.`,
    "Left out of the count, because whether one falls in the counted window depends on what ran before: the optimizing compiler (the odd function that only gets hot after the warm-up is a one-time cost) and V8's full mark-compact collections (about 50 million instructions each, once every few thousand calls; the young generation's scavenges are counted, and what the agent adds to the old generation shows in the RSS figures). The agent's batches leave full, as under load, rather than on their timer.",
    Number.isFinite(callRate)
      ? `≈ µs converts at this machine's rate measured in the same run: a scenario's baseline instructions per request over its baseline server CPU µs per request in the throughput section (${fixed(callRate)} instructions a µs for ${SCENARIO_TITLE[CALLS_RATE_SCENARIO]}, whose rate converts the calls too); that CPU time includes the kernel's, which callgrind does not count, so the rate is a scale for this workload rather than the processor's.`
      : 'The throughput section did not run in this run: instructions only, no conversion to µs.',
    `The section took ${fixed(minutes)} minutes.`,
    '',
  );
  for (const { scenario, variants } of scenarios) {
    const rate = instructionRate(results, scenario.id);
    const base = variants.baseline.instructions;
    const rows = Object.entries(variants).map(([variant, run]) => [
      VARIANTS[variant].title,
      fixed(run.instructions),
      variant === 'baseline' ? '—' : signed(run.instructions - base, 0),
      !Number.isFinite(rate)
        ? '—'
        : variant === 'baseline'
          ? fixed(run.instructions / rate, 1)
          : `${fixed(run.instructions / rate, 1)} (${signed((run.instructions - base) / rate, 1)})`,
      validCell([run]),
    ]);
    out.push(
      `### ${scenario.title}, instructions`,
      '',
      table(['variant', 'instructions per request', 'added over baseline', '≈ µs per request (added)', 'valid'], rows),
      '',
    );
  }
  out.push(
    `Client calls (the micro-benchmarks' calls, one sequential caller inside an active span), instructions per call${Number.isFinite(callRate) ? ` (≈ µs at the ${SCENARIO_TITLE[CALLS_RATE_SCENARIO]} rate)` : ''}:`,
    '',
    table(
      [
        'call',
        'bare',
        'AsyncLocalStorage only',
        'agent, sampler always_off',
        'agent, 100% sampled',
        'always_off above AsyncLocalStorage only',
        'sampled above AsyncLocalStorage only',
        'valid',
      ],
      Object.entries(callKinds).map(([kind, { bare, als, unsampled, wrapped }]) => [
        CALL_TITLES[kind],
        instructionCell(bare.instructions, callRate),
        instructionCell(als.instructions, callRate),
        instructionCell(unsampled?.instructions, callRate),
        instructionCell(wrapped.instructions, callRate),
        addedInstructions(unsampled?.instructions, als.instructions, callRate),
        addedInstructions(wrapped.instructions, als.instructions, callRate),
        validCell([bare, als, wrapped, ...(unsampled ? [unsampled] : [])]),
      ]),
    ),
    '',
  );
  return out;
}

function startupSection({ empty, firstResponse }) {
  const base = median(empty.bare);
  return [
    '## Startup',
    '',
    table(
      ['command', 'ms median (min–max)', 'over `node -e 0`'],
      [
        ['`node -e 0`', spread(empty.bare, 1), '—'],
        ['`node --import ./register.mjs -e 0`', spread(empty.import, 1), `+${fixed(median(empty.import) - base, 1)} ms`],
        ['`node --require ./register.cjs -e 0`', spread(empty.require, 1), `+${fixed(median(empty.require) - base, 1)} ms`],
      ],
    ),
    '',
    `Time to first response of the Fastify app (spawn to the first answered \`/hello\`), ${firstResponse.bare.length} runs each:`,
    '',
    table(
      ['variant', 'ms median (min–max)', 'difference'],
      [
        ['no agent', spread(firstResponse.bare, 1), '—'],
        ['agent (`--import`)', spread(firstResponse.import, 1), `+${fixed(median(firstResponse.import) - median(firstResponse.bare), 1)} ms`],
      ],
    ),
    '',
  ];
}

function outageSection({ rss, requests, failed, warnings, seconds }) {
  return [
    '## Memory with the collector down',
    '',
    `The Fastify app under load for ${seconds} s with its OTLP endpoint refusing connections (${requests} requests served, ${failed} failed).`,
    `RSS samples, MB: ${rss.map((bytes) => mb(bytes)).join(', ')}. Peak of the second half over the first: ${mb(outageGrowth(rss))} MB.`,
    '',
    'What the agent said on stderr:',
    '',
    '```',
    ...(warnings.length > 0 ? warnings.slice(0, 8) : ['(nothing)']),
    '```',
    '',
  ];
}

const CALL_TITLES = {
  http: '`http.request` to a local server',
  pg: '`pg` query `SELECT $1::int`',
  mysql2: '`mysql2` query `SELECT ? AS n` (MariaDB)',
  redis: 'node-redis `GET`',
  ioredis: 'ioredis `GET`',
};

function microSection({ core, metrics, calls }) {
  return [
    '## Micro-benchmarks',
    '',
    table(
      ['operation', 'ops/s', 'µs per op'],
      Object.entries(core.results).map(([name, ops]) => [name, fixed(ops), fixed(1e6 / ops, 3)]),
    ),
    ...(metrics
      ? [
          '',
          `Duration metrics, recorded for every request and call, sampled or not: ${fixed(metrics.records)} records over ${fixed(metrics.series.server)} / ${fixed(metrics.series.client)} / ${fixed(metrics.series.db)} attribute sets (server / client / database); heap allocated over the whole run (a record of a set seen before allocates nothing).`,
          '',
          table(
            ['metric', 'ns per record', 'heap allocated, bytes'],
            Object.entries(metrics.results).map(([name, nanos], i) => [
              name.replace(/ record, ns$/, ''),
              fixed(nanos, 0),
              fixed(Object.values(metrics.heap)[i].allocatedBytes),
            ]),
          ),
        ]
      : []),
    '',
    `The 512-span batch encodes to ${fixed(core.encodedBytes / 1024, 1)} KiB: ${fixed(1e6 / core.results['OTLP protobuf encode, 512-span batch'] / 512, 2)} µs per span.`,
    '',
    'Instrumented calls, each awaited in turn inside an active span (so every wrapped call makes a client span and exports it): bare, inside one AsyncLocalStorage (the floor any context propagation pays: on Node 20 it turns promise hooks on), and with the agent.',
    'Calls/s are round trips to a server, as noisy as the machine; the CPU time the calling process spent per call is the steadier measure of what the agent adds, read above the floor:',
    '',
    table(
      [
        'call',
        'bare calls/s',
        'with agent calls/s',
        'bare CPU µs/call',
        'AsyncLocalStorage only',
        'agent, sampler always_off',
        'agent, 100% sampled',
        'always_off above the floor µs/call',
        'sampled above the floor µs/call',
      ],
      Object.entries(calls).map(([kind, { bare, wrapped, bareCpu, alsCpu, unsampledCpu, wrappedCpu }]) => [
        CALL_TITLES[kind],
        spread(bare),
        spread(wrapped),
        spread(bareCpu, 1),
        spread(alsCpu, 1),
        unsampledCpu ? spread(unsampledCpu, 1) : '—',
        spread(wrappedCpu, 1),
        unsampledCpu ? fixed(median(unsampledCpu) - median(alsCpu), 1) : '—',
        fixed(median(wrappedCpu) - median(alsCpu), 1),
      ]),
    ),
    '',
  ];
}

function footprintSection({ bytes, packages, names, tarballBytes }) {
  return [
    '## Install footprint',
    '',
    `\`npm install\` of the packed agent (${fixed(tarballBytes / 1024, 0)} KiB tarball) with production dependencies only: ${mb(bytes, 2)} MB on disk in ${packages} packages: ${names.join(', ')}.`,
    '',
  ];
}

const signed = (value, digits) => `${value >= 0 ? '+' : ''}${fixed(value, digits)}`;

/**
 * `--peers`: tracelet ('agent') and the other agents, each against the baseline of the same
 * rounds. Spans per request are read off the requests each agent recorded (its server spans),
 * so that a peer dropping spans by design still gives its per-span cost.
 */
function sideBySideSection({ throughput, peers, footprint, machine }) {
  const { tracelet, ...others } = peers.versions;
  const out = [
    '## Side by side',
    '',
    'tracelet and the incumbents, each started the zero-code way its vendor documents for an ES module application, sampling 100% and exporting to a local stand-in of its own backend:',
    '',
    ...Object.values(peers.versions).map(({ title, how }) => `- ${title}: ${how}`),
    '',
  ];
  if (throughput) {
    const rows = [];
    for (const { scenario, runs } of throughput) {
      const baseCpu = cpuPerRequest(runs, 'baseline');
      const baseRss = median(runs.baseline.map((run) => run.memory.rss));
      rows.push([
        scenario.title,
        'no agent',
        `1 (${fixed(median(runs.baseline.map((run) => run.rps)))} req/s)`,
        `${fixed(baseCpu, 1)} µs a request`,
        '—',
        '—',
        fixed(median(runs.baseline.map((run) => run.p99)), 1),
        `${mb(baseRss)} MB`,
        '—',
        '—',
        '—',
      ]);
      for (const variant of Object.keys(runs).filter((variant) => variant === 'agent' || VARIANTS[variant].peer)) {
        const list = runs[variant];
        const added = cpuPerRequest(runs, variant) - baseCpu;
        const spans = median(list.filter((run) => run.serverSpans > 0).map((run) => run.spans / run.serverSpans));
        const invalid = list.filter((run) => !run.valid).map((run) => run.problem);
        rows.push([
          scenario.title,
          variant === 'agent' ? tracelet.title : others[variant].title,
          spread(ratios(runs, variant), 3),
          signed(added, 1),
          fixed(spans, 2),
          fixed(added / spans, 1),
          fixed(median(list.map((run) => run.p99)), 1),
          signed((median(list.map((run) => run.memory.rss)) - baseRss) / MB, 1),
          `${fixed(100 * median(list.map((run) => Math.min(1, run.serverSpans / run.requests))), 1)} %`,
          list[0].payloads === undefined
            ? '—'
            : `${fixed(median(list.map((run) => run.payloads)))}, ${fixed(median(list.map((run) => run.bytes / run.spans)))} B`,
          invalid.length === 0 ? 'yes' : `**no**: ${invalid.join('; ')}`,
        ]);
      }
    }
    out.push(
      `Same scenarios and load as above, ${machine.rounds} round${machine.rounds === 1 ? '' : 's'} rotating the variants:`,
      '',
      table(
        [
          'scenario',
          'agent',
          'throughput / no agent, median (min–max)',
          'CPU µs a request above no agent',
          'spans a request',
          'CPU µs a span',
          'p99 ms',
          'RSS after load, MB above no agent',
          'requests recorded',
          'export requests, bytes a span',
          'valid',
        ],
        rows,
      ),
      '',
      'Spans a request: what each agent sent per request it recorded (its server spans; Elastic: transactions). *Requests recorded*: their share of the requests served, the rest dropped by its exporter or never recorded. Export: requests to the receiver in a run and bytes a span as sent (compressed if the agent compresses).',
      'The agents do not record the same spans: in these versions OpenTelemetry has no Fastify instrumentation (auto-instrumentations-node dropped it in 0.72.0) and Elastic does not instrument node-redis 5. CPU a span puts them on a common scale.',
      'dd-trace samples every trace with `DD_TRACE_SAMPLE_RATE=1` up to its default rate limit of 100 traces/s; past it, it still records and sends every trace, marked for its agent to drop.',
      '',
    );
  }
  if (peers.firstResponse) {
    const { bare, tracelet: traceletTimes, ...peerTimes } = peers.firstResponse;
    const row = (title, times) => [title, spread(times, 1), signed(median(times) - median(bare), 1)];
    out.push(
      `Time to first response of the Fastify app (spawn to the first answered \`/hello\`), ${bare.length} runs each, rotating:`,
      '',
      table(
        ['agent', 'ms median (min–max)', 'over no agent, ms'],
        [
          ['no agent', spread(bare, 1), '—'],
          row(tracelet.title, traceletTimes),
          ...Object.entries(peerTimes).map(([peer, times]) => row(others[peer].title, times)),
        ],
      ),
      '',
    );
  }
  out.push(
    'Installed size: files under node_modules (as the install footprint counts them) and the packages there.',
    '',
    table(
      ['agent', 'MB on disk', 'packages'],
      [
        footprint
          ? [`${tracelet.title} (production install)`, mb(footprint.bytes, 2), String(footprint.packages)]
          : [tracelet.title, 'not measured (section footprint)', '—'],
        ...Object.entries(peers.installs).map(([peer, { bytes, packages }]) => [others[peer].title, mb(bytes, 2), String(packages)]),
      ],
    ),
    '',
    `Versions: ${tracelet.title} (this tree); ${Object.values(others)
      .map(({ packages }) =>
        Object.entries(packages)
          .map(([name, version]) => `${name} ${version}`)
          .join(' + '),
      )
      .join('; ')}. Node ${machine.node}, ${machine.platform}, ${machine.cores} cores (${machine.cpu}), ${machine.date}.`,
    '',
  );
  return out;
}

export function renderReport(results) {
  const { machine } = results;
  const out = [
    '# Benchmark results',
    '',
    `Measured by \`npm run bench${machine.quick ? ' -- --quick' : ''}\` on ${machine.date}: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}.`,
    `Load: ${machine.loadGenerator}, 10 connections, ${machine.warmupSeconds} s warm-up then ${machine.seconds} s measured per run, ${machine.rounds} rounds alternating the variants;`,
    machine.pinning
      ? 'the server runs pinned to core 0, the load generator, the OTLP receiver and the upstream to core 1.'
      : '**not pinned** (fewer than 2 cores or no taskset): server and load generator share the CPU.',
    ...(machine.loadGenerator === 'wrk'
      ? []
      : [
          "**autocannon** generated the load (wrk is not installed): on a slow machine it can saturate its core before the server does, which understates the agent's cost.",
        ]),
    'The agent samples 100% and exports OTLP/protobuf to a local receiver that decodes every span; a run whose spans did not all arrive is marked invalid.',
    'Figures are medians with the min–max spread; ratios compare runs of the same round. Absolute numbers depend on the machine, ratios much less.',
    '',
    '## Budgets',
    '',
    table(['figure', 'measured', 'budget', 'verdict'], budgetRows(results)),
    '',
  ];
  if (results.throughput) {
    out.push('## Throughput and latency', '', ...throughputSection(results.throughput));
    out.push(
      'Where the time goes: *AsyncLocalStorage only* preloads one AsyncLocalStorage that wraps each request, the price the platform charges for context propagation whoever uses it',
      '(on Node 20 an active AsyncLocalStorage turns on promise hooks process-wide);',
      '*sampler always_off* runs the agent with every instrumentation and context propagation but records nothing; the rest of the gap is recording and exporting spans.',
      '*sampler parentbased_traceidratio 0.01* is how services at scale run: one request in a hundred recorded, the rest propagated only; its budget is that of sampling off.',
      "Server CPU per request is the server process's user + system time during the measured load divided by the requests served: what a variant adds is work done, whatever the machine's noise does to throughput.",
      `*${VARIANTS.busy?.title}* is no agent at all, only a fixed CPU cost per request: on a loopback benchmark a server that takes longer per request also pays more in the kernel to wake the idle load generator for each response, so throughput falls faster than the added CPU alone would say. Read the agent's ratio against this one.`,
      '',
    );
  }
  for (const { version, throughput } of results.newerNodes ?? []) {
    out.push(
      `## Node ${version}`,
      '',
      Number(version.split('.')[0]) >= 24
        ? `The same scenarios on Node ${version}, whose AsyncLocalStorage is built on AsyncContextFrame (no promise hooks): the agent uses it unchanged, so the platform's share of the cost shrinks.`
        : `The same scenarios on Node ${version}, whose AsyncLocalStorage still runs on promise hooks (AsyncContextFrame only behind \`--experimental-async-context-frame\`).`,
      '',
      ...throughputSection(throughput),
    );
  }
  if (results.instructions) out.push(...instructionsSection(results));
  if (results.peers) out.push(...sideBySideSection(results));
  if (results.startup) out.push(...startupSection(results.startup));
  if (results.outage) out.push(...outageSection({ seconds: results.outage.seconds, ...results.outage }));
  if (results.micro) out.push(...microSection(results.micro));
  if (results.footprint) out.push(...footprintSection(results.footprint));
  return out.join('\n');
}
