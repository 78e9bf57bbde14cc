import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/env';
import { detectResource, serviceNameOf, type ResourceHost } from '../../../src/trace/resource';
import { AGENT_NAME, AGENT_VERSION } from '../../../src/version';

const CONTAINER_ID = '8729d12f8f122425d3fb5cc67785b4382406f1f5066bea24055a5857e4c7cf92';

/** The agent's configuration as the given environment would produce it. */
const configFrom = (env: Record<string, string> = {}) => parseConfig(env).config;

/** A Linux machine running /srv/app/server.js, with the given files readable. */
function fakeHost(files: Record<string, string> = {}, overrides: Partial<ResourceHost> = {}): ResourceHost {
  return {
    argv: ['/usr/local/bin/node', '/srv/app/server.js', '--password=hunter2'],
    cwd: () => '/srv/app',
    pid: 4242,
    execPath: '/usr/local/bin/node',
    title: 'node',
    platform: 'linux',
    arch: 'x64',
    hostname: () => 'web-1',
    nodeVersion: 'v20.11.1',
    readFile: (file) => files[file],
    ...overrides,
  };
}

const APP_PACKAGE = { '/srv/app/package.json': JSON.stringify({ name: '@acme/checkout', version: '2.4.0' }) };

describe('detectResource', () => {
  it('describes the service, the SDK, the process and the host', () => {
    const resource = detectResource(configFrom(), fakeHost(APP_PACKAGE));
    expect(resource.serviceName).toBe('@acme/checkout');
    expect({ attributes: resource.attributes }).toStrictEqual({
      attributes: {
        'service.name': '@acme/checkout',
        'service.version': '2.4.0',
        'telemetry.sdk.name': AGENT_NAME,
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.version': AGENT_VERSION,
        'process.pid': 4242,
        'process.executable.name': 'node',
        'process.executable.path': '/usr/local/bin/node',
        'process.command': '/srv/app/server.js',
        'process.runtime.name': 'nodejs',
        'process.runtime.version': '20.11.1',
        'process.runtime.description': 'Node.js',
        'host.name': 'web-1',
        'host.arch': 'amd64',
        'os.type': 'linux',
      },
    });
    expect(resource.schemaUrl).toBeUndefined();
  });

  it('reads only what the service name needs at startup, and the rest when first exported', () => {
    const reads: string[] = [];
    const host = fakeHost(
      { ...APP_PACKAGE, '/proc/self/cgroup': `0::/docker/${CONTAINER_ID}` },
      {
        readFile: (file) => {
          reads.push(file);
          return { ...APP_PACKAGE, '/proc/self/cgroup': `0::/docker/${CONTAINER_ID}` }[file];
        },
      },
    );
    const named = detectResource(configFrom({ OTEL_SERVICE_NAME: 'checkout' }), host);
    expect(named.serviceName).toBe('checkout');
    expect(reads).toEqual([]);
    expect(named.attributes['container.id']).toBe(CONTAINER_ID);
    expect(named.attributes['service.version']).toBe('2.4.0');
    expect(reads).toContain('/proc/self/cgroup');
    const count = reads.length;
    void named.attributes;
    expect(reads).toHaveLength(count);
  });

  it('never records the command line arguments', () => {
    const { attributes } = detectResource(configFrom(), fakeHost(APP_PACKAGE));
    expect(attributes).not.toHaveProperty('process.command_args');
    expect(attributes).not.toHaveProperty('process.command_line');
    expect(JSON.stringify(attributes)).not.toContain('hunter2');
  });

  describe('service.name', () => {
    it('is OTEL_SERVICE_NAME first', () => {
      const config = configFrom({ OTEL_SERVICE_NAME: 'checkout', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' });
      expect(detectResource(config, fakeHost(APP_PACKAGE)).attributes['service.name']).toBe('checkout');
    });

    it('is service.name from OTEL_RESOURCE_ATTRIBUTES second', () => {
      const config = configFrom({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from%20attrs' });
      expect(detectResource(config, fakeHost(APP_PACKAGE)).attributes['service.name']).toBe('from attrs');
    });

    it("is the application package.json's name third, scope and all", () => {
      expect(detectResource(configFrom(), fakeHost(APP_PACKAGE)).attributes['service.name']).toBe('@acme/checkout');
    });

    it('is unknown_service:node when nothing names the service', () => {
      expect(detectResource(configFrom(), fakeHost()).attributes['service.name']).toBe('unknown_service:node');
    });

    it('passes over an empty service.name in OTEL_RESOURCE_ATTRIBUTES', () => {
      const config = configFrom({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=,team=payments' });
      const { attributes } = detectResource(config, fakeHost(APP_PACKAGE));
      expect(attributes['service.name']).toBe('@acme/checkout');
      expect(attributes['team']).toBe('payments');
    });
  });

  describe('service.version', () => {
    it('comes from OTEL_RESOURCE_ATTRIBUTES over package.json', () => {
      const config = configFrom({ OTEL_RESOURCE_ATTRIBUTES: 'service.version=9.9.9' });
      expect(detectResource(config, fakeHost(APP_PACKAGE)).attributes['service.version']).toBe('9.9.9');
    });

    it("comes from the package.json's version otherwise, even when OTEL_SERVICE_NAME names the service", () => {
      const config = configFrom({ OTEL_SERVICE_NAME: 'checkout' });
      const { attributes } = detectResource(config, fakeHost(APP_PACKAGE));
      expect(attributes['service.name']).toBe('checkout');
      expect(attributes['service.version']).toBe('2.4.0');
    });

    it('is left out when package.json has no version', () => {
      const files = { '/srv/app/package.json': JSON.stringify({ name: 'checkout' }) };
      expect(detectResource(configFrom(), fakeHost(files)).attributes).not.toHaveProperty('service.version');
    });
  });

  it('does not look for package.json when the environment gives both name and version', () => {
    const readFile = vi.fn((): string | undefined => undefined);
    const config = configFrom({ OTEL_SERVICE_NAME: 'checkout', OTEL_RESOURCE_ATTRIBUTES: 'service.version=1.0.0' });
    detectResource(config, fakeHost({}, { readFile }));
    expect(readFile.mock.calls.flat().filter((file) => String(file).endsWith('package.json'))).toEqual([]);
  });

  it('lets OTEL_RESOURCE_ATTRIBUTES override detected attributes and add its own', () => {
    const config = configFrom({
      OTEL_RESOURCE_ATTRIBUTES: 'host.name=edge-7,process.runtime.name=custom,deployment.environment.name=production',
    });
    const { attributes } = detectResource(config, fakeHost(APP_PACKAGE));
    expect(attributes['host.name']).toBe('edge-7');
    expect(attributes['process.runtime.name']).toBe('custom');
    expect(attributes['deployment.environment.name']).toBe('production');
    expect(attributes['host.arch']).toBe('amd64');
  });

  it.each([
    ['x64', 'amd64'],
    ['arm64', 'arm64'],
    ['ia32', 'x86'],
    ['arm', 'arm32'],
    ['ppc', 'ppc32'],
    ['ppc64', 'ppc64'],
    ['s390x', 's390x'],
    ['riscv64', 'riscv64'],
    ['loong64', 'loong64'],
  ])('maps process.arch %s to host.arch %s', (arch, expected) => {
    expect(detectResource(configFrom(), fakeHost({}, { arch })).attributes['host.arch']).toBe(expected);
  });

  it.each([
    ['win32', 'windows'],
    ['darwin', 'darwin'],
    ['linux', 'linux'],
    ['freebsd', 'freebsd'],
    ['netbsd', 'netbsd'],
    ['openbsd', 'openbsd'],
    ['sunos', 'solaris'],
    ['aix', 'aix'],
    ['haiku', 'haiku'],
  ])('maps process.platform %s to os.type %s', (platform, expected) => {
    expect(detectResource(configFrom(), fakeHost({}, { platform })).attributes['os.type']).toBe(expected);
  });

  it('does not take a mapping from Object.prototype for an odd arch or platform', () => {
    const { attributes } = detectResource(configFrom(), fakeHost({}, { arch: 'constructor', platform: 'toString' }));
    expect(attributes['host.arch']).toBe('constructor');
    expect(attributes['os.type']).toBe('toString');
  });

  describe('process attributes', () => {
    it('names the executable after execPath when the title is empty', () => {
      const host = fakeHost({}, { title: '', execPath: '/opt/node-20/bin/node20' });
      expect(detectResource(configFrom(), host).attributes['process.executable.name']).toBe('node20');
    });

    it('uses argv[0] as the command when there is no script (node -e)', () => {
      const host = fakeHost({}, { argv: ['/usr/local/bin/node'] });
      expect(detectResource(configFrom(), host).attributes['process.command']).toBe('/usr/local/bin/node');
    });
  });

  describe('container.id', () => {
    const cgroup = { '/proc/self/cgroup': `0::/system.slice/docker-${CONTAINER_ID}.scope\n` };
    const mountinfo = {
      '/proc/self/cgroup': '0::/\n',
      '/proc/self/mountinfo': `520 512 254:1 /var/lib/docker/containers/${CONTAINER_ID}/hostname /etc/hostname rw - ext4 /dev/vda1 rw\n`,
    };

    it('comes from /proc/self/cgroup', () => {
      expect(detectResource(configFrom(), fakeHost(cgroup)).attributes['container.id']).toBe(CONTAINER_ID);
    });

    it('comes from /proc/self/mountinfo when the cgroup file shows none', () => {
      expect(detectResource(configFrom(), fakeHost(mountinfo)).attributes['container.id']).toBe(CONTAINER_ID);
    });

    it('is left out on a bare host', () => {
      const files = { '/proc/self/cgroup': '0::/user.slice/user-1000.slice/session-2.scope\n', '/proc/self/mountinfo': '' };
      expect(detectResource(configFrom(), fakeHost(files)).attributes).not.toHaveProperty('container.id');
    });

    it('is not looked for outside Linux', () => {
      const readFile = vi.fn((file: string) => (cgroup as Record<string, string>)[file]);
      const { attributes } = detectResource(configFrom(), fakeHost({}, { platform: 'darwin', readFile }));
      expect(attributes).not.toHaveProperty('container.id');
      expect(readFile.mock.calls.flat().filter((file) => file.startsWith('/proc/'))).toEqual([]);
    });
  });

  it('never throws: a failing part of the host only leaves its attributes out', () => {
    const fail = (): never => {
      throw new Error('boom');
    };
    const host = fakeHost({}, { cwd: fail, hostname: fail, readFile: fail });
    const { attributes } = detectResource(configFrom(), host);
    expect(attributes['service.name']).toBe('unknown_service:node');
    expect(attributes).not.toHaveProperty('host.name');
    expect(attributes).not.toHaveProperty('container.id');
    expect(attributes['host.arch']).toBe('amd64');
    expect(attributes['process.pid']).toBe(4242);
  });

  it('describes the real process by default', () => {
    const { attributes } = detectResource(configFrom({ OTEL_SERVICE_NAME: 'real' }));
    expect(attributes['service.name']).toBe('real');
    expect(attributes['process.pid']).toBe(process.pid);
    expect(attributes['process.runtime.version']).toBe(process.versions.node);
    expect(attributes['process.executable.path']).toBe(process.execPath);
  });
});

describe('serviceNameOf', () => {
  it("returns the resource's service.name", () => {
    expect(serviceNameOf({ attributes: { 'service.name': 'checkout' } })).toBe('checkout');
  });

  it('falls back to unknown_service:node when it is missing, empty or not a string', () => {
    expect(serviceNameOf({ attributes: {} })).toBe('unknown_service:node');
    expect(serviceNameOf({ attributes: { 'service.name': '' } })).toBe('unknown_service:node');
    expect(serviceNameOf({ attributes: { 'service.name': 42 } })).toBe('unknown_service:node');
  });
});
