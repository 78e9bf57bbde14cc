import { analyzeSql, type SqlDialect } from './sql';

/** What a query's text contributes to its span. */
export interface Statement {
  /** db.query.text: sanitized, never holding a literal; undefined when nothing is left. */
  readonly text: string | undefined;
  /** db.query.summary, and the span name; undefined when the text names no known command. */
  readonly summary: string | undefined;
  /** db.stored_procedure.name: the procedure a text that is one CALL runs. */
  readonly procedure: string | undefined;
}

/** Sanitized text is cut at this length (the summary at 255). */
export const MAX_QUERY_TEXT_LENGTH = 4096;
/**
 * Applications send the same few statements over and over: their analysis is kept, for texts up
 * to this length and this many texts (the oldest go first), so a query's span costs a lookup.
 */
const CACHED_TEXT_LENGTH = 2048;
const CACHED_STATEMENTS = 512;

const statements = new Map<string, Statement>();

export function describeStatement(text: string, dialect: SqlDialect = 'postgresql'): Statement {
  const key = dialect === 'postgresql' ? text : `${dialect}\0${text}`;
  const cached = statements.get(key);
  if (cached !== undefined) return cached;
  const analysis = analyzeSql(text, MAX_QUERY_TEXT_LENGTH, dialect);
  const statement: Statement = { text: analysis.text === '' ? undefined : analysis.text, summary: analysis.summary, procedure: analysis.procedure };
  if (text.length <= CACHED_TEXT_LENGTH) {
    if (statements.size >= CACHED_STATEMENTS) statements.delete(statements.keys().next().value!);
    statements.set(key, statement);
  }
  return statement;
}
