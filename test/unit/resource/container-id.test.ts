import { describe, expect, it } from 'vitest';
import { containerIdFromCgroup, containerIdFromMountinfo } from '../../../src/trace/resource';

const DOCKER_ID = 'da1135cf6e364cd6aa0d27adcf7aba6be62456f8c356016410d3ef04602fd61a';
const K8S_ID = '99e780915baf3841938696b0db5aff875c1e0c0c63847ebc2d35d8a048513722';
const PODMAN_ID = 'a3810dc522d95ff5f5b91b6acca6391f82560954da16e2c1d48dfbd5dbdc863e';
const OVERLAY_LAYER = '24020c93e6c2391d05a8fe0c1ceff360252480480549a8874cff3ddca6318437';
const OTHER_CONTAINER = '2656cbcb9fb50c732009b3b80512546ed83d6a8e19bd8ee72c5f0f9911bfe7fa';

/** Joins sample lines the way the kernel writes the files. */
const file = (...lines: string[]) => lines.join('\n') + '\n';

describe('containerIdFromCgroup', () => {
  it('reads docker under cgroup v1 (cgroupfs driver)', () => {
    const text = file(
      `12:pids:/docker/${DOCKER_ID}`,
      `11:hugetlb:/docker/${DOCKER_ID}`,
      `10:net_prio,net_cls:/docker/${DOCKER_ID}`,
      `9:memory:/docker/${DOCKER_ID}`,
      `8:cpu,cpuacct:/docker/${DOCKER_ID}`,
      `1:name=systemd:/docker/${DOCKER_ID}`,
      '0::/system.slice/containerd.service',
    );
    expect(containerIdFromCgroup(text)).toBe(DOCKER_ID);
  });

  it('reads docker under the systemd driver (docker-<id>.scope)', () => {
    const text = file(`5:memory:/system.slice/docker-${DOCKER_ID}.scope`, `1:name=systemd:/system.slice/docker-${DOCKER_ID}.scope`);
    expect(containerIdFromCgroup(text)).toBe(DOCKER_ID);
  });

  it('reads docker with the host cgroup namespace under cgroup v2', () => {
    expect(containerIdFromCgroup(file(`0::/system.slice/docker-${DOCKER_ID}.scope`))).toBe(DOCKER_ID);
  });

  it('reads kubernetes with containerd (systemd driver)', () => {
    const pod = 'kubepods-burstable-pod3c1f1b4e_2a7d_4a7e_9f3b_0c1d2e3f4a5b.slice';
    const text = file(
      `11:cpuset:/kubepods.slice/kubepods-burstable.slice/${pod}/cri-containerd-${K8S_ID}.scope`,
      `1:name=systemd:/kubepods.slice/kubepods-burstable.slice/${pod}/cri-containerd-${K8S_ID}.scope`,
    );
    expect(containerIdFromCgroup(text)).toBe(K8S_ID);
  });

  it('reads kubernetes with the cgroupfs driver (bare id under the pod)', () => {
    const text = file(`4:memory:/kubepods/besteffort/pod3c1f1b4e-2a7d-4a7e-9f3b-0c1d2e3f4a5b/${K8S_ID}`);
    expect(containerIdFromCgroup(text)).toBe(K8S_ID);
  });

  it('reads CRI-O (crio-<id>.scope)', () => {
    const text = file(`0::/kubepods.slice/kubepods-pod1234.slice/crio-${K8S_ID}.scope`);
    expect(containerIdFromCgroup(text)).toBe(K8S_ID);
  });

  it('reads podman (libpod-<id>, with and without a systemd scope)', () => {
    expect(containerIdFromCgroup(file(`0::/machine.slice/libpod-${PODMAN_ID}.scope/container`))).toBe(PODMAN_ID);
    expect(containerIdFromCgroup(file(`3:cpu:/libpod_parent/libpod-${PODMAN_ID}`))).toBe(PODMAN_ID);
  });

  it('reports the innermost container when containers nest', () => {
    expect(containerIdFromCgroup(file(`9:memory:/docker/${OTHER_CONTAINER}/docker/${DOCKER_ID}`))).toBe(DOCKER_ID);
  });

  it('finds nothing on a bare host or in a private cgroup v2 namespace', () => {
    const hostV1 = file(
      '12:pids:/user.slice/user-1000.slice/session-3.scope',
      '9:memory:/user.slice/user-1000.slice/session-3.scope',
      '1:name=systemd:/user.slice/user-1000.slice/session-3.scope',
    );
    const hostV2 = file('0::/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-5b0e8a2c-6a7f-4d0e-9a51-3c2b1d0e9f8a.scope');
    expect(containerIdFromCgroup(hostV1)).toBeUndefined();
    expect(containerIdFromCgroup(hostV2)).toBeUndefined();
    expect(containerIdFromCgroup(file('0::/system.slice/nginx.service'))).toBeUndefined();
    expect(containerIdFromCgroup(file('0::/'))).toBeUndefined();
    expect(containerIdFromCgroup('')).toBeUndefined();
  });

  it('ignores 64-hex strings that are not a whole path segment', () => {
    expect(containerIdFromCgroup(file(`0::/system.slice/backup-${DOCKER_ID}x.service`))).toBeUndefined();
    expect(containerIdFromCgroup(file(`0::/${DOCKER_ID.slice(1)}`))).toBeUndefined();
  });
});

describe('containerIdFromMountinfo', () => {
  it('reads docker under cgroup v2 from its bind-mounted /etc files, not the overlay layers', () => {
    const text = file(
      `512 470 0:52 / / rw,relatime master:250 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABCDEF:/var/lib/docker/overlay2/l/GHIJKL,upperdir=/var/lib/docker/overlay2/${OVERLAY_LAYER}/diff,workdir=/var/lib/docker/overlay2/${OVERLAY_LAYER}/work`,
      '513 512 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
      '514 512 0:56 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755',
      '518 512 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate',
      `519 512 254:1 /var/lib/docker/containers/${DOCKER_ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw`,
      `520 512 254:1 /var/lib/docker/containers/${DOCKER_ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw`,
      `521 512 254:1 /var/lib/docker/containers/${DOCKER_ID}/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw`,
      '471 514 0:54 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k',
    );
    expect(containerIdFromMountinfo(text)).toBe(DOCKER_ID);
  });

  it('reads docker when /var/lib/docker is its own file system', () => {
    const text = file(`520 512 8:17 /containers/${DOCKER_ID}/hostname /etc/hostname rw,relatime - xfs /dev/sdb1 rw`);
    expect(containerIdFromMountinfo(text)).toBe(DOCKER_ID);
  });

  it('reads kubernetes with containerd (the pod sandbox directory)', () => {
    const text = file(
      `1380 1290 0:340 / / rw,relatime master:480 - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/41/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/58/fs`,
      '1391 1380 259:1 /var/lib/kubelet/pods/3c1f1b4e-2a7d-4a7e-9f3b-0c1d2e3f4a5b/etc-hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p1 rw',
      '1392 1381 259:1 /var/lib/kubelet/pods/3c1f1b4e-2a7d-4a7e-9f3b-0c1d2e3f4a5b/containers/checkout/a1b2c3d4 /dev/termination-log rw,relatime - ext4 /dev/nvme0n1p1 rw',
      `1393 1380 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${K8S_ID}/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw`,
      `1394 1380 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${K8S_ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p1 rw`,
    );
    expect(containerIdFromMountinfo(text)).toBe(K8S_ID);
  });

  it('reads rootless podman (overlay-containers/<id>/userdata)', () => {
    const text = file(
      '800 750 0:60 / / rw,relatime - overlay overlay rw,lowerdir=/home/dev/.local/share/containers/storage/overlay/l/XYZ',
      `812 800 0:44 /home/dev/.local/share/containers/storage/overlay-containers/${PODMAN_ID}/userdata/hostname /etc/hostname rw,relatime - btrfs /dev/nvme0n1p3 rw`,
      `813 800 0:44 /home/dev/.local/share/containers/storage/overlay-containers/${PODMAN_ID}/userdata/.containerenv /run/.containerenv rw,relatime - btrfs /dev/nvme0n1p3 rw`,
    );
    expect(containerIdFromMountinfo(text)).toBe(PODMAN_ID);
  });

  it('finds nothing on a bare host, even one that runs docker containers', () => {
    const text = file(
      '22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw',
      '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
      '30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw',
      `301 22 0:52 / /var/lib/docker/overlay2/${OVERLAY_LAYER}/merged rw,relatime - overlay overlay rw,upperdir=/var/lib/docker/overlay2/${OVERLAY_LAYER}/diff`,
      `310 22 0:55 / /var/lib/docker/containers/${OTHER_CONTAINER}/mounts/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k`,
    );
    expect(containerIdFromMountinfo(text)).toBeUndefined();
    expect(containerIdFromMountinfo('')).toBeUndefined();
  });
});
