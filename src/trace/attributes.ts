import type { AttributeValue, Attributes } from '@opentelemetry/api';

const hasOwn = Object.prototype.hasOwnProperty;

function isPrimitiveAttribute(value: unknown): boolean {
  // typeof compared in place: V8 then tests the type directly instead of building its name.
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * The OpenTelemetry attribute value rule: a string, number or boolean, or an array of one of
 * those types (null and undefined allowed inside arrays).
 */
export function isAttributeValue(value: unknown): value is AttributeValue {
  if (isPrimitiveAttribute(value)) return true;
  if (!Array.isArray(value)) return false;
  let type: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (item === null || item === undefined) continue;
    if (!isPrimitiveAttribute(item)) return false;
    const itemType = typeof item;
    if (type === undefined) type = itemType;
    else if (itemType !== type) return false;
  }
  return true;
}

/** A valid key: a non-empty string that cannot reach an object's prototype. */
export function isAttributeKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key !== '__proto__';
}

/**
 * Applies the value length limit, and copies arrays so later changes by the caller do not alter
 * what is exported.
 */
export function limitValue(value: AttributeValue, lengthLimit: number): AttributeValue {
  if (typeof value === 'string') return value.length > lengthLimit ? value.slice(0, lengthLimit) : value;
  if (!Array.isArray(value)) return value;
  const copy = value.slice();
  if (lengthLimit !== Infinity) {
    for (let i = 0; i < copy.length; i++) {
      const item = copy[i];
      if (typeof item === 'string' && item.length > lengthLimit) copy[i] = item.slice(0, lengthLimit);
    }
  }
  return copy as AttributeValue;
}

/** Result of building a bounded attribute set for an event or link. */
export interface LimitedAttributes {
  readonly attributes: Attributes;
  readonly dropped: number;
}

const EMPTY: LimitedAttributes = { attributes: Object.freeze({}), dropped: 0 };

/** Builds a fresh attribute set from user input, keeping only valid entries and at most countLimit. */
export function limitAttributes(input: Attributes | undefined, countLimit: number, lengthLimit: number): LimitedAttributes {
  if (input === undefined || input === null || typeof input !== 'object') return EMPTY;
  const attributes: Attributes = {};
  let count = 0;
  let dropped = 0;
  for (const key in input) {
    if (!hasOwn.call(input, key)) continue;
    const value = input[key];
    if (!isAttributeKey(key) || !isAttributeValue(value)) continue;
    if (count >= countLimit) {
      dropped++;
      continue;
    }
    attributes[key] = limitValue(value, lengthLimit);
    count++;
  }
  return count === 0 && dropped === 0 ? EMPTY : { attributes, dropped };
}
