/** The agent's name as it appears in diagnostics, resource attributes and instrumentation scopes. */
export const AGENT_NAME = 'tracelet';

/** Kept equal to package.json's version (a unit test pins the two together). */
export const AGENT_VERSION = '0.1.0';
