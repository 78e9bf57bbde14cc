import type { Instrumentation } from '../../src/instrumentation/types';

/** Trace ids in pino records (stub: the log-correlation work fills it in). */
export const pinoInstrumentation: Instrumentation = { name: 'pino', patches: [] };
