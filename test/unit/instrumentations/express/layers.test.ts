import { describe, expect, it } from 'vitest';
import {
  annotateUse,
  declaredPath,
  handlerName,
  joinPaths,
  kKind,
  kMountPath,
  routeTemplate,
  usePathOf,
  type Layer,
} from '../../../../instrumentations/express/layers';

describe('Express route templates', () => {
  it('report a declared path as the application wrote it, never a concrete URL', () => {
    expect(declaredPath('/users/:id')).toBe('/users/:id');
    expect(declaredPath('/files/*splat')).toBe('/files/*splat');
    expect(declaredPath(/^\/numbers\/(\d+)$/)).toBe('/^\\/numbers\\/(\\d+)$/');
    expect(declaredPath(['/a', ['/b', /c/]])).toBe('/a,/b,/c/');
  });

  it('join mount prefixes and route paths without doubled or lost slashes', () => {
    expect(joinPaths('', '/users/:id')).toBe('/users/:id');
    expect(joinPaths('', '')).toBe('/');
    expect(joinPaths('/api', '/users')).toBe('/api/users');
    expect(joinPaths('/api/', '/users')).toBe('/api/users');
    expect(joinPaths('/api', '/')).toBe('/api');
    expect(joinPaths('/api', 'users')).toBe('/api/users');
    expect(joinPaths('/api', '*')).toBe('/api/*');
  });

  it('read the path of router.use(...) the way Express does', () => {
    const fn = () => undefined;
    expect(usePathOf([fn])).toBe('/');
    expect(usePathOf([[fn, fn]])).toBe('/');
    expect(usePathOf(['/api', fn])).toBe('/api');
    expect(usePathOf([['/a', '/b'], fn])).toEqual(['/a', '/b']);
  });

  it('mark the layers one use() added with their kind and mount path', () => {
    function router() {}
    router.handle = () => undefined;
    router.stack = [] as unknown[];
    function app() {}
    app.handle = () => undefined;
    app.set = () => undefined;
    function query() {}
    function expressInit() {}
    function logger() {}
    const layers: Layer[] = [query, expressInit, logger, router, app, function mounted_app() {}, query].map((handle) => ({ handle }));
    annotateUse({ stack: layers.slice(0, 2) }, 0, '/');
    const stack = { stack: layers };
    annotateUse(stack, 2, '/');
    expect(layers.map((layer) => layer[kKind])).toEqual(['express', 'express', 'middleware', 'router', 'app', 'app', 'middleware']);
    expect(layers.map((layer) => layer[kMountPath])).toEqual(Array(7).fill(undefined));
    annotateUse(stack, 3, '/api');
    expect(layers[3]![kMountPath]).toBe('/api');
  });

  it('compute a route layer template once per prefix, and name its handler', () => {
    const layer: Layer = { handle: () => undefined, route: { path: '/users/:id', stack: [{ name: 'auth' }, { name: 'getUser' }] } };
    expect(routeTemplate(layer, '/api')).toBe('/api/users/:id');
    expect(routeTemplate(layer, '/api')).toBe('/api/users/:id');
    expect(routeTemplate(layer, '/v2')).toBe('/v2/users/:id');
    expect(handlerName(layer)).toBe('getUser');
    expect(handlerName({ handle: () => undefined, route: { path: '/', stack: [{ name: '<anonymous>' }] } })).toBeUndefined();
  });
});
