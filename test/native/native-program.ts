// Builds a C++ test program of test/native with g++ (sanitized), cached in the temp directory under
// a hash of its sources and of every header it could include, so a rerun with unchanged sources
// reuses the build.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface NativeProgram {
  name: string;
  sources: string[];
  /** Include directories relative to ROOT (their .h / .cuh files are hashed), then absolute ones. */
  includes: string[];
  systemIncludes?: string[];
  std: 'c++17' | 'c++20';
  extraFlags?: string[];
}

function sourcesHash(p: NativeProgram): string {
  const hash = createHash('sha256');
  const headers = p.includes.flatMap((d) => (readdirSync(path.join(ROOT, d), { recursive: true }) as string[])
    .filter((f) => /\.(h|cuh)$/.test(f)).map((f) => path.join(d, f))).sort();
  for (const f of [...p.sources, ...headers]) hash.update(f).update(readFileSync(path.join(ROOT, f)));
  hash.update(JSON.stringify([p.std, p.extraFlags ?? [], p.systemIncludes ?? []]));
  return hash.digest('hex').slice(0, 16);
}

/** The path of the built program (built now unless a build of the same sources exists). */
export function buildNativeProgram(p: NativeProgram): string {
  const exe = path.join(os.tmpdir(), `hs-${p.name}-${sourcesHash(p)}`);
  if (!existsSync(exe)) {
    const flags = [`-std=${p.std}`, '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-Wall', '-Wextra', '-Werror',
      ...(p.extraFlags ?? []), ...p.includes.map((d) => `-I${d}`), ...(p.systemIncludes ?? []).map((d) => `-isystem${d}`)];
    execFileSync('g++', [...flags, ...p.sources, '-lpthread', '-o', `${exe}.${process.pid}`], { cwd: ROOT, stdio: 'pipe' });
    renameSync(`${exe}.${process.pid}`, exe);
  }
  return exe;
}
