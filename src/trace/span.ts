import type { Attributes, AttributeValue, Exception, Link, Span, SpanContext, SpanKind, SpanStatus, TimeInput } from '@opentelemetry/api';
import { SpanStatusCode } from '../api/trace';
import type { SpanLimits } from '../config/env';
import { diag } from '../diag/logger';
import { ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE, EXCEPTION_EVENT_NAME } from '../semconv';
import { isAttributeKey, isAttributeValue, limitAttributes, limitValue } from './attributes';
import { epochFromMonotonic, monotonic, now, toEpochMillis } from './clock';
import { safeExceptionFor } from './withheld-errors';
import type { EpochMillis, InstrumentationScope, ReadableSpan, SpanLinkData, TimedEvent } from './types';

/** Where a span reports to: the limits it obeys and who receives it when it ends. */
export interface SpanOwner {
  readonly limits: SpanLimits;
  onSpanEnd(span: ReadableSpan): void;
}

const hasOwn = Object.prototype.hasOwnProperty;
/** Past this many attributes a span looks names up in a Map instead of scanning (limits can be raised far). */
const INDEXED_FROM = 32;
const NO_EVENTS: TimedEvent[] = [];
const NO_LINKS: SpanLinkData[] = [];
const UNSET_STATUS: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

export interface SpanInit {
  readonly name: string;
  readonly kind: SpanKind;
  readonly spanContext: SpanContext;
  readonly parentSpanContext: SpanContext | undefined;
  readonly parentIsRemote: boolean;
  readonly scope: InstrumentationScope;
  readonly owner: SpanOwner;
  readonly startTime?: TimeInput;
}

function validTime(time: TimeInput | undefined): EpochMillis | undefined {
  if (time === undefined) return undefined;
  const millis = toEpochMillis(time);
  return Number.isFinite(millis) ? millis : undefined;
}

/**
 * A recording span. It is also the exported record: ending it hands this same object to the
 * processors, so nothing is copied per span.
 */
export class RecordingSpan implements Span, ReadableSpan {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly parentIsRemote: boolean;
  readonly scope: InstrumentationScope;
  readonly startTime: EpochMillis;
  endTime: EpochMillis = 0;
  /**
   * Attribute names and values in the order they were first set. Two arrays rather than an
   * object: with per-span keys an object's stores and for-in are megamorphic, the arrays are
   * cheap to fill and to encode. `attributes` gives the object view.
   */
  readonly attributeKeys: string[] = [];
  readonly attributeValues: AttributeValue[] = [];
  droppedAttributesCount = 0;
  events: TimedEvent[] = NO_EVENTS;
  droppedEventsCount = 0;
  links: SpanLinkData[] = NO_LINKS;
  droppedLinksCount = 0;
  status: SpanStatus = UNSET_STATUS;

  private readonly context: SpanContext;
  private readonly owner: SpanOwner;
  /**
   * Monotonic start, so an implicit end is start + elapsed and never jumps with the wall clock.
   * NaN when the caller gave the start time (then the end is simply "now").
   */
  private readonly monotonicStart: number;
  /** Index of attributeKeys, once a span has many attributes. */
  private keyIndex: Map<string, number> | undefined = undefined;
  private attributesView: Attributes | undefined = undefined;
  private ended = false;

  constructor(init: SpanInit) {
    this.name = init.name;
    this.kind = init.kind;
    this.context = init.spanContext;
    this.parentSpanContext = init.parentSpanContext;
    this.parentIsRemote = init.parentIsRemote;
    this.scope = init.scope;
    this.owner = init.owner;
    const explicitStart = validTime(init.startTime);
    if (explicitStart === undefined) {
      this.monotonicStart = monotonic();
      this.startTime = epochFromMonotonic(this.monotonicStart);
    } else {
      this.monotonicStart = NaN;
      this.startTime = explicitStart;
    }
  }

  spanContext(): SpanContext {
    return this.context;
  }

  get parentSpanId(): string | undefined {
    return this.parentSpanContext?.spanId;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  /** The attributes as an object (built when asked for; kept once the span has ended). */
  get attributes(): Attributes {
    let view = this.attributesView;
    if (view === undefined) {
      view = {};
      const keys = this.attributeKeys;
      for (let i = 0; i < keys.length; i++) view[keys[i]!] = this.attributeValues[i];
      if (this.ended) this.attributesView = view;
    }
    return view;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.ended || !isAttributeKey(key) || !isAttributeValue(value)) return this;
    const limits = this.owner.limits;
    const stored =
      typeof value === 'string' && value.length <= limits.attributeValueLengthLimit ? value : limitValue(value, limits.attributeValueLengthLimit);
    const keys = this.attributeKeys;
    const index = this.indexOf(key);
    if (index !== -1) {
      this.attributeValues[index] = stored;
      return this;
    }
    if (keys.length >= limits.attributeCountLimit) {
      this.droppedAttributesCount++;
      return this;
    }
    keys.push(key);
    this.attributeValues.push(stored);
    if (this.keyIndex !== undefined) this.keyIndex.set(key, keys.length - 1);
    else if (keys.length === INDEXED_FROM) this.keyIndex = new Map(keys.map((name, i) => [name, i]));
    return this;
  }

  private indexOf(key: string): number {
    if (this.keyIndex !== undefined) return this.keyIndex.get(key) ?? -1;
    const keys = this.attributeKeys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return i;
    return -1;
  }

  setAttributes(attributes: Attributes): this {
    if (attributes === null || typeof attributes !== 'object') return this;
    for (const key in attributes) {
      if (hasOwn.call(attributes, key)) this.setAttribute(key, attributes[key] as AttributeValue);
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const limits = this.owner.limits;
    if (limits.eventCountLimit === 0) {
      this.droppedEventsCount++;
      return this;
    }
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrTime)) time = attributesOrTime;
    else attributes = attributesOrTime;
    const limited = limitAttributes(attributes, limits.attributePerEventCountLimit, limits.attributeValueLengthLimit);
    if (this.events === NO_EVENTS) this.events = [];
    // Past the limit the oldest event goes: the latest ones (often the error) matter most.
    else if (this.events.length >= limits.eventCountLimit) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    this.events.push({
      name: String(name),
      time: validTime(time) ?? now(),
      attributes: limited.attributes,
      droppedAttributesCount: limited.dropped,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended || link === null || typeof link !== 'object' || typeof link.context !== 'object') return this;
    const limits = this.owner.limits;
    if (this.links.length >= limits.linkCountLimit) {
      this.droppedLinksCount++;
      return this;
    }
    const limited = limitAttributes(link.attributes, limits.attributePerLinkCountLimit, limits.attributeValueLengthLimit);
    if (this.links === NO_LINKS) this.links = [];
    this.links.push({ context: link.context, attributes: limited.attributes, droppedAttributesCount: limited.dropped });
    return this;
  }

  addLinks(links: Link[]): this {
    if (Array.isArray(links)) for (const link of links) this.addLink(link);
    return this;
  }

  /** Ok is final; Unset is ignored; a description is kept for Error only. */
  setStatus(status: SpanStatus): this {
    if (this.ended || status === null || typeof status !== 'object') return this;
    if (this.status.code === SpanStatusCode.OK || status.code === SpanStatusCode.UNSET) return this;
    if (status.code === SpanStatusCode.OK) this.status = { code: SpanStatusCode.OK };
    else if (status.code === SpanStatusCode.ERROR) {
      this.status =
        typeof status.message === 'string' && status.message !== ''
          ? { code: SpanStatusCode.ERROR, message: status.message }
          : { code: SpanStatusCode.ERROR };
    }
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = String(name);
    return this;
  }

  /**
   * Adds an `exception` event; the status is left to the caller, as the specification says. An
   * error a database instrumentation withheld (its message can quote values) is recorded as its
   * safe description, whichever span records it.
   */
  recordException(exception: Exception, time?: TimeInput): void {
    exception = safeExceptionFor(exception) ?? exception;
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes[ATTR_EXCEPTION_MESSAGE] = exception;
    } else if (exception !== null && typeof exception === 'object') {
      const type = exception.code !== undefined && exception.code !== null ? String(exception.code) : exception.name;
      if (type) attributes[ATTR_EXCEPTION_TYPE] = type;
      if (exception.message) attributes[ATTR_EXCEPTION_MESSAGE] = String(exception.message);
      if (exception.stack) attributes[ATTR_EXCEPTION_STACKTRACE] = String(exception.stack);
    } else {
      return;
    }
    this.addEvent(EXCEPTION_EVENT_NAME, attributes, time);
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      diag.debug(`span "${this.name}" ended more than once; later calls are ignored`);
      return;
    }
    this.ended = true;
    const end = validTime(endTime) ?? (Number.isNaN(this.monotonicStart) ? now() : this.startTime + (monotonic() - this.monotonicStart));
    this.endTime = end < this.startTime ? this.startTime : end;
    this.owner.onSpanEnd(this);
  }
}

function isTimeInput(value: unknown): value is TimeInput {
  return (
    typeof value === 'number' ||
    value instanceof Date ||
    (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number')
  );
}
