import { describe, expect, it } from 'vitest';
import { SymbolSlot } from '../../../src/instrumentation/symbol-slot';

describe('SymbolSlot', () => {
  it('keeps a value per object, like a WeakMap', () => {
    const slot = new SymbolSlot<string>('test.slot');
    const a = {};
    const b = {};
    expect(slot.set(a, 'A')).toBe(true);
    expect(slot.get(a)).toBe('A');
    expect(slot.has(a)).toBe(true);
    expect(slot.get(b)).toBeUndefined();
    expect(slot.has(b)).toBe(false);
    slot.delete(a);
    expect(slot.get(a)).toBeUndefined();
    expect(slot.has(a)).toBe(false);
  });

  it('leaves the object looking unchanged to JSON, Object.keys and for-in', () => {
    const slot = new SymbolSlot<object>('test.hidden');
    const request = { id: 1 };
    slot.set(request, { state: true });
    expect(JSON.stringify(request)).toBe('{"id":1}');
    expect(Object.keys(request)).toEqual(['id']);
    const seen: string[] = [];
    for (const key in request) seen.push(key);
    expect(seen).toEqual(['id']);
  });

  it('two slots never see each other', () => {
    const first = new SymbolSlot<number>('same.name');
    const second = new SymbolSlot<number>('same.name');
    const target = {};
    first.set(target, 1);
    expect(second.get(target)).toBeUndefined();
  });

  it('a frozen object takes no value and nothing throws', () => {
    const slot = new SymbolSlot<number>('test.frozen');
    const frozen = Object.freeze({});
    expect(slot.set(frozen, 1)).toBe(false);
    expect(slot.get(frozen)).toBeUndefined();
    const frozenLater = {};
    slot.set(frozenLater, 2);
    Object.freeze(frozenLater);
    expect(() => slot.delete(frozenLater)).not.toThrow();
  });
});
