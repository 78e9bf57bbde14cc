/**
 * Programmatic entry: most users never import this, they start the agent with
 * `node --import tracelet/register app.js`. It is here for custom instrumentations and tests.
 */
export { start, type Agent, type StartOptions } from './agent';
export type {
  ChannelSubscription,
  Instrumentation,
  InstrumentationContext,
  ModulePatch,
  PatchTarget,
  TracingChannelSubscription,
} from './instrumentation/types';
export { wrap, unwrap } from './instrumentation/wrap';
export { describeError, Outcome, recordFailure, type DescribeFailure, type Failure, type OnSuccess } from './instrumentation/outcome';
