import { writeSync } from 'node:fs';
import { AGENT_NAME } from '../version';

/** OTEL_LOG_LEVEL values, from quietest to loudest. */
export const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4, verbose: 5 };
const PREFIX = `[${AGENT_NAME}] `;

type Sink = (line: string) => void;

/**
 * A synchronous write to fd 2: a line is never lost at exit, and the agent does not create
 * process.stderr (a stream whose setup costs milliseconds at startup) just to say it started.
 * Should the descriptor refuse (a full non-blocking pipe), the stream takes the line instead.
 */
const writeToStderr: Sink = (line) => {
  try {
    writeSync(2, line);
  } catch {
    process.stderr.write(line);
  }
};

/**
 * The agent's own messages: one line each on stderr, prefixed with the agent's name.
 * A process-wide singleton, because there is one agent per process.
 */
class DiagLogger {
  private rank = RANK.info;
  private sink: Sink = writeToStderr;
  private readonly said = new Set<string>();

  setLevel(level: LogLevel): void {
    this.rank = RANK[level];
  }

  /** Redirects output (tests); pass undefined to restore stderr. */
  setSink(sink: Sink | undefined): void {
    this.sink = sink ?? writeToStderr;
    this.said.clear();
  }

  enabled(level: Exclude<LogLevel, 'none'>): boolean {
    return RANK[level] <= this.rank;
  }

  error(message: string): void {
    this.write(RANK.error, 'error', message);
  }

  warn(message: string): void {
    this.write(RANK.warn, 'warn', message);
  }

  info(message: string): void {
    this.write(RANK.info, 'info', message);
  }

  debug(message: string): void {
    this.write(RANK.debug, 'debug', message);
  }

  verbose(message: string): void {
    this.write(RANK.verbose, 'verbose', message);
  }

  /** Says a message once per key for the life of the process (the key set is bounded). */
  once(level: 'error' | 'warn' | 'info' | 'debug', key: string, message: string): void {
    if (RANK[level] > this.rank || this.said.has(key)) return;
    if (this.said.size < 1000) this.said.add(key);
    this.write(RANK[level], level, message);
  }

  private write(rank: number, label: string, message: string): void {
    if (rank > this.rank) return;
    try {
      this.sink(`${PREFIX}${label}: ${message}\n`);
    } catch {
      // A closed stderr must never become the application's problem.
    }
  }
}

export const diag = new DiagLogger();
export type { DiagLogger };
