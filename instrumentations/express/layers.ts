/**
 * What the instrumentation learns about a router's layers when the application declares them
 * (router.use, router.route and everything built on them: app.use, app.get, app.all...): the
 * path each was declared with, as a template, and what kind of layer it is. Kept on Express's
 * own Layer object under private symbols, so a request only reads it.
 */

/** What a layer added by `use` is. */
export type LayerKind = 'middleware' | 'router' | 'app' | 'express';

export const kKind = Symbol('tracelet.express.kind');
/** The path prefix a `use` layer was mounted at (absent for `/`: it adds nothing to a route). */
export const kMountPath = Symbol('tracelet.express.mountPath');
/** The last full route template computed for a route layer, by the prefix it was computed under. */
export const kRouteTemplate = Symbol('tracelet.express.routeTemplate');

export interface Layer {
  handle: Function;
  name?: string;
  route?: { path?: unknown; stack?: Array<{ name?: string; handle?: unknown }> };
  [kKind]?: LayerKind;
  [kMountPath]?: string;
  [kRouteTemplate]?: { readonly prefix: string; readonly template: string };
}

export interface Router {
  stack?: Layer[];
}

/**
 * The path a route or a `use` was declared with, as the template to report: a string as written
 * (`/users/:id`, Express 5's `/files/*splat`), a regular expression as its source form, an array
 * as its members joined by commas. Never the concrete URL, so always low-cardinality.
 */
export function declaredPath(path: unknown): string {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) return path.flat(Infinity).map(declaredPath).join(',');
  return String(path);
}

/** A route template under a mount prefix: `/api` + `/users/:id`, `/api` + `/` = `/api`. */
export function joinPaths(prefix: string, path: string): string {
  if (prefix === '') return path === '' ? '/' : path;
  if (path === '' || path === '/') return prefix;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path.startsWith('/') ? trimmed + path : `${trimmed}/${path}`;
}

/** What `router.use(path?, ...fns)` was given as a path (the same disambiguation Express does), `/` when none. */
export function usePathOf(args: ArrayLike<unknown>): unknown {
  let first = args[0];
  while (Array.isArray(first) && first.length !== 0) first = first[0];
  return typeof first === 'function' ? '/' : args[0];
}

/** Express 4 adds its own `query` and `expressInit` middleware first to every app: never spans of their own. */
const EXPRESS_OWN = new Set(['query', 'expressInit']);

function kindOf(fn: Function, position: number): LayerKind {
  const handle = fn as { stack?: unknown; handle?: unknown; set?: unknown };
  if (position < 2 && EXPRESS_OWN.has(fn.name)) return 'express';
  if (fn.name === 'mounted_app' || (typeof handle.handle === 'function' && typeof handle.set === 'function')) return 'app';
  if (typeof handle.handle === 'function' && Array.isArray(handle.stack)) return 'router';
  return 'middleware';
}

/** Marks the layers one `use` call added (stack[from..]) with their kind and mount path. */
export function annotateUse(router: Router, from: number, path: unknown): void {
  const stack = router.stack;
  if (!Array.isArray(stack)) return;
  const declared = declaredPath(path);
  for (let i = from; i < stack.length; i++) {
    const layer = stack[i]!;
    if (layer === null || typeof layer !== 'object' || typeof layer.handle !== 'function') continue;
    layer[kKind] = kindOf(layer.handle, i);
    if (declared !== '/' && declared !== '') layer[kMountPath] = declared;
  }
}

/** The full template of a route layer under the given prefix, computed once per prefix. */
export function routeTemplate(layer: Layer, prefix: string): string {
  const cached = layer[kRouteTemplate];
  if (cached !== undefined && cached.prefix === prefix) return cached.template;
  const template = joinPaths(prefix, declaredPath(layer.route?.path));
  layer[kRouteTemplate] = { prefix, template };
  return template;
}

/** The function a route ends with: its handler. */
export function lastHandler(layer: Layer): unknown {
  const stack = layer.route?.stack;
  return Array.isArray(stack) && stack.length !== 0 ? stack[stack.length - 1]!.handle : undefined;
}

/** The name of a route's handler: its last function, when named. */
export function handlerName(layer: Layer): string | undefined {
  const stack = layer.route?.stack;
  const name = Array.isArray(stack) && stack.length !== 0 ? stack[stack.length - 1]!.name : undefined;
  return typeof name === 'string' && name !== '' && name !== '<anonymous>' ? name : undefined;
}
