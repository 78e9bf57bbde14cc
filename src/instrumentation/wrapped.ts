/** Marks the agent's own wrappers (set by wrap.ts), so the same method is never wrapped twice. */
export const WRAPPED = Symbol.for('tracelet.wrapped');

/** The function behind the agent's wrapper (shimmer keeps it as __original), or fn itself. */
export function unwrapped<F extends Function>(fn: F): F {
  const marked = fn as unknown as { [WRAPPED]?: boolean; __original?: F };
  return marked[WRAPPED] === true && typeof marked.__original === 'function' ? marked.__original : fn;
}
