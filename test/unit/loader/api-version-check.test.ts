import { describe, expect, it } from 'vitest';
import { apiVersionsCompatible } from '../../../src/loader/api-version-check';

describe('apiVersionsCompatible (the @opentelemetry/api global registration rule)', () => {
  it.each([
    ['1.9.0', '1.10.0', true],
    ['1.10.0', '1.10.0', true],
    ['1.10.1', '1.10.0', true],
    ['1.11.0', '1.10.0', false],
    ['2.0.0', '1.10.0', false],
    ['1.9.0-rc.1', '1.10.0', false],
    ['0.3.1', '0.3.2', true],
    ['0.3.3', '0.3.2', false],
    ['0.4.0', '0.3.2', false],
    ['garbage', '1.10.0', false],
  ])('an application API %s with a global registered by %s: %s', (app, global, expected) => {
    expect(apiVersionsCompatible(app, global)).toBe(expected);
  });
});
