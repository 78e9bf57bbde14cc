import { describe, expect, it } from 'vitest';
import { EnvReader } from '../../../src/config/env';
import { briefName, isTracedAbove, markTracedAbove, readFrameworkSettings } from '../../../src/instrumentation/framework';

describe('briefName', () => {
  it('keeps a plain function or plugin name as it is', () => {
    expect(briefName('authenticate')).toBe('authenticate');
    expect(briefName('@fastify/cors')).toBe('@fastify/cors');
  });

  it('keeps the last link of a plugin chain', () => {
    expect(briefName('fastify -> usersPlugin')).toBe('usersPlugin');
    expect(briefName('fastify -> serviceApp-auto-0 -> @fastify/cors')).toBe('@fastify/cors');
  });

  it('names a plugin named by its file path after its package, or its file, never a directory', () => {
    expect(briefName('fastify -> serviceApp-auto-0 -> /srv/app/node_modules/@fastify/autoload/index.js')).toBe('@fastify/autoload');
    expect(briefName('/srv/app/node_modules/fastify-sensible/lib/plugin.js')).toBe('fastify-sensible');
    expect(briefName('/srv/app/src/plugins/auth.mjs')).toBe('auth');
    expect(briefName('/srv/app/src/routes/users/index.ts')).toBe('users');
    expect(briefName('C:\\app\\src\\plugins\\db.js')).toBe('db');
  });

  it('gives nothing for what is not a usable name', () => {
    expect(briefName(undefined)).toBeUndefined();
    expect(briefName('')).toBeUndefined();
    expect(briefName(42)).toBeUndefined();
    expect(briefName('x'.repeat(81))).toBeUndefined();
  });
});

describe('readFrameworkSettings', () => {
  it('reads OTEL_INSTRUMENTATION_<FRAMEWORK>_SPANS, `handler` by default, a bad value warned about', () => {
    const warnings: string[] = [];
    const read = (env: Record<string, string>) => readFrameworkSettings(new EnvReader(env, warnings), 'EXPRESS');
    expect(read({})).toEqual({ spans: 'handler' });
    expect(read({ OTEL_INSTRUMENTATION_EXPRESS_SPANS: 'all' })).toEqual({ spans: 'all' });
    expect(read({ OTEL_INSTRUMENTATION_EXPRESS_SPANS: 'route' })).toEqual({ spans: 'route' });
    expect(read({ OTEL_INSTRUMENTATION_KOA_SPANS: 'all' })).toEqual({ spans: 'handler' });
    expect(warnings).toEqual([]);
    expect(read({ OTEL_INSTRUMENTATION_EXPRESS_SPANS: 'everything' })).toEqual({ spans: 'handler' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('OTEL_INSTRUMENTATION_EXPRESS_SPANS');
  });
});

describe('markTracedAbove', () => {
  it('marks a handler that a framework on top traces itself, without changing it', () => {
    const handler = function proxy(_request: unknown, _response: unknown) {};
    expect(isTracedAbove(handler)).toBe(false);
    markTracedAbove(handler);
    expect(isTracedAbove(handler)).toBe(true);
    expect([handler.name, handler.length, Object.keys(handler)]).toEqual(['proxy', 2, []]);
    expect(isTracedAbove(undefined)).toBe(false);
    const frozen = Object.freeze(() => undefined);
    markTracedAbove(frozen);
    expect(isTracedAbove(frozen)).toBe(false);
  });
});
