let semverSatisfies: ((version: string, range: string) => boolean) | undefined;

/** semver.satisfies (prereleases included), with semver loaded at first use rather than at startup. */
export function satisfies(version: string, range: string): boolean {
  if (range === '*') return true;
  if (semverSatisfies === undefined) {
    const semver = require('semver') as typeof import('semver');
    semverSatisfies = (v, r) => semver.satisfies(v, r, { includePrerelease: true });
  }
  return semverSatisfies(version, range);
}
