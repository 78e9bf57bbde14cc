import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import type { AgentConfig } from '../config/env';
import { diag } from '../diag/logger';
import {
  ATTR_CONTAINER_ID,
  ATTR_HOST_ARCH,
  ATTR_HOST_NAME,
  ATTR_OS_TYPE,
  ATTR_PROCESS_COMMAND,
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_EXECUTABLE_PATH,
  ATTR_PROCESS_PID,
  ATTR_PROCESS_RUNTIME_DESCRIPTION,
  ATTR_PROCESS_RUNTIME_NAME,
  ATTR_PROCESS_RUNTIME_VERSION,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_TELEMETRY_SDK_LANGUAGE,
  ATTR_TELEMETRY_SDK_NAME,
  ATTR_TELEMETRY_SDK_VERSION,
  HOST_ARCH_VALUE_AMD64,
  HOST_ARCH_VALUE_ARM32,
  HOST_ARCH_VALUE_ARM64,
  HOST_ARCH_VALUE_PPC32,
  HOST_ARCH_VALUE_PPC64,
  HOST_ARCH_VALUE_S390X,
  HOST_ARCH_VALUE_X86,
  OS_TYPE_VALUE_AIX,
  OS_TYPE_VALUE_DARWIN,
  OS_TYPE_VALUE_FREEBSD,
  OS_TYPE_VALUE_LINUX,
  OS_TYPE_VALUE_NETBSD,
  OS_TYPE_VALUE_OPENBSD,
  OS_TYPE_VALUE_SOLARIS,
  OS_TYPE_VALUE_WINDOWS,
  TELEMETRY_SDK_LANGUAGE_VALUE_NODEJS,
} from '../semconv';
import { AGENT_NAME, AGENT_VERSION } from '../version';
import type { Resource } from './types';

/** The spec's fallback, `unknown_service:` + the executable name. */
export const UNKNOWN_SERVICE_NAME = 'unknown_service:node';

/** The machine as resource detection sees it; tests pass a fake. */
export interface ResourceHost {
  /** As process.argv: [node, entry script (absent for `node -e` and the REPL), ...arguments]. */
  readonly argv: readonly string[];
  cwd(): string;
  readonly pid: number;
  readonly execPath: string;
  readonly title: string;
  /** As process.platform. */
  readonly platform: string;
  /** As process.arch. */
  readonly arch: string;
  hostname(): string;
  /** As process.version, e.g. 'v20.11.0'. */
  readonly nodeVersion: string;
  /** The file's text, or undefined when it cannot be read. Never throws. */
  readFile(file: string): string | undefined;
}

/** The real process, operating system and file system. */
export function processHost(): ResourceHost {
  return {
    argv: process.argv,
    cwd: () => process.cwd(),
    pid: process.pid,
    execPath: process.execPath,
    title: process.title,
    platform: process.platform,
    arch: process.arch,
    hostname: () => hostname(),
    nodeVersion: process.version,
    readFile: (file) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** A resource whose service name is known at once and whose other attributes are read on first use. */
export interface DetectedResource extends Resource {
  readonly serviceName: string;
}

/**
 * Describes this process for every exported span. Synchronous and never throws (a fact that
 * cannot be found is simply left out). Only the service name is settled at startup (reading
 * package.json when the environment does not name the service); the rest (host, process,
 * container) is read when the first spans are exported, so a process that exports nothing pays
 * nothing for it.
 */
export function detectResource(config: AgentConfig, host: ResourceHost = processHost()): DetectedResource {
  const configured = config.resourceAttributes;
  const configuredName = config.serviceName ?? nonEmpty(configured[ATTR_SERVICE_NAME]);
  const configuredVersion = configured[ATTR_SERVICE_VERSION];
  // Only touch the file system when the environment leaves something to find.
  const pkg = configuredName === undefined ? attempt('the application package.json', () => findApplicationPackage(host)) : undefined;
  const serviceName = configuredName ?? pkg?.name ?? UNKNOWN_SERVICE_NAME;
  let attributes: Attributes | undefined;

  const detect = (): Attributes => {
    const versionSource =
      configuredName === undefined || configuredVersion !== undefined
        ? pkg
        : attempt('the application package.json', () => findApplicationPackage(host));
    const detected: Attributes = {
      [ATTR_TELEMETRY_SDK_NAME]: AGENT_NAME,
      [ATTR_TELEMETRY_SDK_LANGUAGE]: TELEMETRY_SDK_LANGUAGE_VALUE_NODEJS,
      [ATTR_TELEMETRY_SDK_VERSION]: AGENT_VERSION,
      ...attempt('process attributes', () => processAttributes(host)),
      ...attempt('host attributes', () => hostAttributes(host)),
      ...attempt('the container id', () => containerAttributes(host)),
      [ATTR_SERVICE_VERSION]: versionSource?.version,
    };
    const all: Attributes = { ...withoutMissingValues(detected), ...configured };
    all[ATTR_SERVICE_NAME] = serviceName;
    return all;
  };

  return {
    serviceName,
    get attributes(): Attributes {
      attributes ??= detect();
      return attributes;
    },
  };
}

/** The resource's service.name, or the spec's fallback when it has none. */
export function serviceNameOf(resource: Resource): string {
  const name = resource.attributes[ATTR_SERVICE_NAME];
  return typeof name === 'string' && name !== '' ? name : UNKNOWN_SERVICE_NAME;
}

// --- the application's package.json ---

/** Deep enough for any real project layout, bounded so startup never walks far. */
const MAX_PACKAGE_JSON_LEVELS = 10;

interface PackageInfo {
  readonly name: string;
  readonly version: string | undefined;
}

/**
 * The nearest package.json with a name, walking up from the entry script (or cwd without one).
 * Nameless ones (`{"type": "module"}` markers) and unreadable ones are passed over.
 */
function findApplicationPackage(host: ResourceHost): PackageInfo | undefined {
  // Start at the script path itself, not its directory: `node .` passes a directory.
  let dir = outsideNodeModules(resolve(host.cwd(), host.argv[1] ?? ''));
  for (let level = 0; level < MAX_PACKAGE_JSON_LEVELS; level++) {
    const pkg = readPackageJson(host, join(dir, 'package.json'));
    if (pkg !== undefined) return pkg;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/**
 * A script inside node_modules is a dependency's launcher (next, ts-node, ...): its package.json
 * names the tool, not the application, so search from the project that installed it.
 */
function outsideNodeModules(start: string): string {
  const segments = start.split(sep);
  const index = segments.indexOf('node_modules');
  if (index <= 0) return start;
  // The trailing separator keeps a drive root ('C:') from becoming drive-relative.
  return resolve(segments.slice(0, index).join(sep) + sep);
}

function readPackageJson(host: ResourceHost, file: string): PackageInfo | undefined {
  const text = host.readFile(file);
  if (text === undefined) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    diag.debug(`resource: ${file} is not valid JSON; looking further up`);
    return undefined;
  }
  if (typeof manifest !== 'object' || manifest === null) return undefined;
  const { name, version } = manifest as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || name === '') return undefined;
  return { name, version: typeof version === 'string' && version !== '' ? version : undefined };
}

// --- process, host and operating system ---

function processAttributes(host: ResourceHost): Attributes {
  return {
    [ATTR_PROCESS_PID]: host.pid,
    [ATTR_PROCESS_EXECUTABLE_NAME]: host.title || basename(host.execPath),
    [ATTR_PROCESS_EXECUTABLE_PATH]: host.execPath,
    // The script, not the whole command line: arguments can carry secrets.
    [ATTR_PROCESS_COMMAND]: host.argv[1] ?? host.argv[0],
    [ATTR_PROCESS_RUNTIME_NAME]: 'nodejs',
    [ATTR_PROCESS_RUNTIME_VERSION]: host.nodeVersion.replace(/^v/, ''),
    [ATTR_PROCESS_RUNTIME_DESCRIPTION]: 'Node.js',
  };
}

/** process.arch → host.arch; unlisted values pass through as they are. */
const HOST_ARCH_BY_NODE_ARCH: ReadonlyMap<string, string> = new Map([
  ['x64', HOST_ARCH_VALUE_AMD64],
  ['arm64', HOST_ARCH_VALUE_ARM64],
  ['ia32', HOST_ARCH_VALUE_X86],
  ['arm', HOST_ARCH_VALUE_ARM32],
  ['ppc', HOST_ARCH_VALUE_PPC32],
  ['ppc64', HOST_ARCH_VALUE_PPC64],
  ['s390x', HOST_ARCH_VALUE_S390X],
]);

/** process.platform → os.type; unlisted values pass through as they are. */
const OS_TYPE_BY_PLATFORM: ReadonlyMap<string, string> = new Map([
  ['win32', OS_TYPE_VALUE_WINDOWS],
  ['darwin', OS_TYPE_VALUE_DARWIN],
  ['linux', OS_TYPE_VALUE_LINUX],
  ['freebsd', OS_TYPE_VALUE_FREEBSD],
  ['netbsd', OS_TYPE_VALUE_NETBSD],
  ['openbsd', OS_TYPE_VALUE_OPENBSD],
  ['sunos', OS_TYPE_VALUE_SOLARIS],
  ['aix', OS_TYPE_VALUE_AIX],
]);

function hostAttributes(host: ResourceHost): Attributes {
  return {
    // Separately guarded so a failing hostname() keeps arch and os.
    [ATTR_HOST_NAME]: attempt('host.name', () => host.hostname()),
    [ATTR_HOST_ARCH]: HOST_ARCH_BY_NODE_ARCH.get(host.arch) ?? host.arch,
    [ATTR_OS_TYPE]: OS_TYPE_BY_PLATFORM.get(host.platform) ?? host.platform,
  };
}

// --- container ---

function containerAttributes(host: ResourceHost): Attributes | undefined {
  if (host.platform !== 'linux') return undefined;
  const id = containerIdFromCgroup(host.readFile('/proc/self/cgroup') ?? '') ?? containerIdFromMountinfo(host.readFile('/proc/self/mountinfo') ?? '');
  return id === undefined ? undefined : { [ATTR_CONTAINER_ID]: id };
}

/**
 * A cgroup path segment naming a container: the bare 64-hex id (docker, kubepods) or a runtime's
 * form of it (docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>).
 */
const CGROUP_CONTAINER_SEGMENT = /^(?:[a-z][a-z0-9-]*-)?([0-9a-f]{64})(?:\.scope)?$/;

/**
 * The container id in /proc/self/cgroup text (lines `hierarchy:controllers:path`). Finds it under
 * cgroup v1, or v2 with the host's cgroup namespace; a private v2 namespace shows only `0::/`.
 */
export function containerIdFromCgroup(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const pathStart = line.indexOf(':', line.indexOf(':') + 1) + 1;
    if (pathStart === 0) continue;
    const segments = line.slice(pathStart).trim().split('/');
    // Innermost first, so a container nested in another reports its own id.
    for (let i = segments.length - 1; i >= 0; i--) {
      const match = CGROUP_CONTAINER_SEGMENT.exec(segments[i]);
      if (match) return match[1];
    }
  }
  return undefined;
}

/**
 * A runtime's per-container directory: docker's containers/<id>, podman's and CRI-O's
 * overlay-containers/<id>, containerd's sandboxes/<id> (the pod sandbox's id, all it exposes).
 */
const MOUNT_CONTAINER_DIR = /\/(?:containers|overlay-containers|sandboxes)\/([0-9a-f]{64})(?:\/|$)/;

/**
 * The container id in /proc/self/mountinfo text, for cgroup v2 where the cgroup file shows none:
 * runtimes bind-mount /etc/hostname and friends from their per-container directory.
 */
export function containerIdFromMountinfo(text: string): string | undefined {
  for (const line of text.split('\n')) {
    // Only the mount's root (4th field): on a docker host, the host's own mount points include
    // containers/<id>/mounts/shm, which must not make the host look like a container.
    const root = line.split(' ')[3];
    const match = root === undefined ? null : MOUNT_CONTAINER_DIR.exec(root);
    if (match) return match[1];
  }
  return undefined;
}

// --- helpers ---

/** Runs one detection step; a failure leaves its attributes out instead of stopping startup. */
function attempt<T>(what: string, detect: () => T): T | undefined {
  try {
    return detect();
  } catch (error) {
    diag.debug(`resource: could not detect ${what}: ${String(error)}`);
    return undefined;
  }
}

/** A fact that could not be found is left out rather than sent empty. */
function withoutMissingValues(attributes: Attributes): Attributes {
  const present: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== '') present[key] = value;
  }
  return present;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
