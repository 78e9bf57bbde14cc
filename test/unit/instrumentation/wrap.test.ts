import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import { isWrapped, unwrap, wrap } from '../../../src/instrumentation/wrap';

const messages: string[] = [];
diag.setSink((line) => messages.push(line));
diag.setLevel('debug');
afterEach(() => {
  messages.length = 0;
});

const on = { enabled: true };

describe('wrap', () => {
  it('replaces a method with the wrapper of the original, keeping enumerability, and unwraps it', () => {
    const target = {
      greet(name: string) {
        return `hi ${name}`;
      },
    };
    const original = target.greet;
    expect(
      wrap(
        on,
        target,
        'greet',
        (fn) =>
          function (this: unknown, ...args: unknown[]) {
            return `[${fn.apply(this, args)}]`;
          },
      ),
    ).toBe(true);
    expect(target.greet('a')).toBe('[hi a]');
    expect(Object.keys(target)).toEqual(['greet']);
    expect(isWrapped(target, 'greet')).toBe(true);
    unwrap(target, 'greet');
    expect(target.greet).toBe(original);
    expect(isWrapped(target, 'greet')).toBe(false);
  });

  it('never wraps the same method twice', () => {
    const target = { run: () => 1 };
    wrap(on, target, 'run', (fn) => () => fn() + 1);
    expect(wrap(on, target, 'run', (fn) => () => fn() + 100)).toBe(false);
    expect(target.run()).toBe(2);
  });

  it('refuses non-functions and read-only properties without throwing or printing to the console', () => {
    const frozen = Object.freeze({ run: () => 1 });
    const target = { value: 42 } as Record<string, unknown>;
    expect(wrap(on, target, 'value', () => () => 0)).toBe(false);
    expect(wrap(on, target, 'missing', () => () => 0)).toBe(false);
    expect(wrap(on, frozen, 'run', () => () => 0)).toBe(false);
    expect(frozen.run()).toBe(1);
    expect(messages.filter((m) => m.includes('not wrapping'))).toHaveLength(3);
  });

  it('leaves a method that is not its own wrapper alone on unwrap', () => {
    const run = () => 1;
    const target = { run };
    unwrap(target, 'run');
    expect(target.run).toBe(run);
  });

  it('hands calls straight to the original while its instrumentation is switched off', () => {
    const owner = { enabled: true };
    const target = {
      run(n: number) {
        return n;
      },
    };
    wrap(
      owner,
      target,
      'run',
      (fn) =>
        function run(this: unknown, n: number) {
          return fn.call(this, n) * 10;
        },
    );
    expect(target.run(2)).toBe(20);
    owner.enabled = false;
    expect(target.run(2)).toBe(2);
    expect(target.run.name).toBe('run');
    expect(target.run.length).toBe(1);
  });
});
