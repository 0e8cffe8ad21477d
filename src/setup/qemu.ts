// Registers QEMU only for the platforms that need it: the ones the runner
// cannot execute natively and that binfmt_misc does not already handle.
// Builds that cross-compile from $BUILDPLATFORM need no emulation at all;
// emulation is for RUN steps in target-platform stages and for the smoke test.
import * as out from '../output.js';
import * as fs from 'node:fs';
import { failureTail, run } from '../exec.js';

const QEMU_NAME: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  arm: 'arm',
  '386': 'i386',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64le: 'mips64el',
  loong64: 'loongarch64',
};

// 32-bit Arm is not counted as native on arm64: many arm64 CPUs (Graviton,
// Ampere, Apple silicon, recent Cortex cores) have no AArch32 mode at all, and
// the kernel cannot tell a process whether it would run one. Registering
// qemu-arm where the CPU could run it natively costs speed, never correctness.
const NATIVE: Record<string, string[]> = {
  x64: ['amd64', '386'],
  arm64: ['arm64'],
};

export function archOf(platform: string): string {
  return platform.split('/')[1];
}

export function nativePlatform(nodeArch = process.arch): string {
  return `linux/${NATIVE[nodeArch]?.[0] ?? nodeArch}`;
}

/** Architectures that need an emulator registered, given what is registered now. */
export function emulatorsNeeded(platforms: string[], nodeArch: string, registered: (qemuName: string) => boolean): string[] {
  const native = NATIVE[nodeArch] ?? [];
  const out: string[] = [];
  for (const p of platforms) {
    const arch = archOf(p);
    if (native.includes(arch) || out.includes(arch)) continue;
    const q = QEMU_NAME[arch];
    if (q && registered(q)) continue;
    out.push(arch);
  }
  return out;
}

export function binfmtRegistered(qemuName: string): boolean {
  try {
    return fs.readFileSync(`/proc/sys/fs/binfmt_misc/qemu-${qemuName}`, 'utf8').startsWith('enabled');
  } catch {
    return false;
  }
}

/** Returns the architectures still without an emulator (a warning has been written for them). */
export async function ensureQemu(platforms: string[], image: string): Promise<string[]> {
  const needed = emulatorsNeeded(platforms, process.arch, binfmtRegistered);
  if (needed.length === 0) {
    out.info('QEMU: not needed (every platform is native or already registered)');
    return [];
  }
  out.info(`QEMU: registering ${needed.join(', ')} with ${image}`);
  const res = await run('docker', ['run', '--rm', '--privileged', image, '--install', needed.join(',')], { allowFailure: true });
  const missing = needed.filter((a) => !binfmtRegistered(QEMU_NAME[a] ?? a));
  if (res.exitCode !== 0 || missing.length > 0) {
    out.warning(
      `QEMU could not be registered for ${missing.join(', ') || needed.join(', ')} (${failureTail(res, 1) || 'no output'}). ` +
        'Dockerfile stages that RUN commands on those platforms will fail; cross-compiling from $BUILDPLATFORM avoids emulation.',
    );
  }
  return missing;
}
