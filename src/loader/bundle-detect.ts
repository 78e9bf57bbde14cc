import { diag } from '../diag/logger';

/** Marks bundlers leave in their output (webpack, esbuild, parcel, rollup's CommonJS plugin). */
const BUNDLER_MARKERS = /__webpack_require__|__commonJS\(|__toESM\(|parcelRequire|commonjsRequire/;
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

/**
 * Reports packages compiled into a bundle, where no loader hook can see them. Reads the entry
 * file once, asynchronously, after startup; says nothing when the app is not bundled or when the
 * hooks already saw the packages load normally.
 */
export async function detectBundledModules(entry: string | undefined, modules: readonly string[], seen: ReadonlySet<string>): Promise<string[]> {
  if (entry === undefined) return [];
  try {
    const { readFile, stat } = require('node:fs/promises') as typeof import('node:fs/promises');
    const info = await stat(entry);
    if (!info.isFile() || info.size > MAX_BUNDLE_BYTES) return [];
    const source = await readFile(entry, 'utf8');
    if (!BUNDLER_MARKERS.test(source)) return [];
    const bundled = modules.filter((name) => !seen.has(name) && source.includes(`node_modules/${name}/`));
    if (bundled.length > 0) {
      diag.warn(
        `${entry} is a bundle that contains ${bundled.join(', ')}; code inside a bundle cannot be instrumented, so mark these packages as external in the bundler configuration`,
      );
    } else {
      diag.debug(`${entry} looks bundled; no instrumented package was found inside it`);
    }
    return bundled;
  } catch {
    return [];
  }
}
