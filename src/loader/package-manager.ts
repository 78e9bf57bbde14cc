import { resolve } from 'node:path';

/**
 * Entry scripts of package managers, as `node <script>` sees them: npm's bin/npm-cli.js (or the
 * `npm` link a shebang runs), npx-cli.js, yarn.js / yarn.cjs and Yarn 2+'s yarn-4.5.0.cjs,
 * pnpm.cjs, corepack and its shims.
 */
const PACKAGE_MANAGER_SCRIPT = /^(npm|npx|pnpm|pnpx|yarn|yarnpkg|corepack)(-cli)?(-\d+\.\d+\.\d+\S*)?(\.c?js)?$/;

/**
 * The package manager this process runs (npm, yarn...), or undefined for anything else. With
 * NODE_OPTIONS carrying the agent's preload, `npm start` runs it twice: in npm's own process,
 * which this recognises, and in the application npm spawns. That application inherits
 * npm_execpath too, so the variable counts only when it names this very process's script.
 */
export function packageManagerOf(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const script = argv[1];
  if (script === undefined || script === '') return undefined;
  const file = fileName(script);
  const match = PACKAGE_MANAGER_SCRIPT.exec(file);
  if (match !== null) return match[1];
  const execPath = env.npm_execpath;
  if (execPath !== undefined && execPath !== '' && resolve(execPath) === resolve(script)) return file;
  return undefined;
}

/** The last part of a path, with either separator (a Windows path read anywhere). */
function fileName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
