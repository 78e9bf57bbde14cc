/** The numbers decoded OTLP spans carry: Span.SpanKind, and Status.StatusCode ERROR. */
export const INTERNAL = 1;
export const SERVER = 2;
export const CLIENT = 3;
export const ERROR = 2;
/** Status code UNSET. */
export const UNSET = 0;
