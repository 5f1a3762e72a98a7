// Builds a C++ test program of test/native with g++ (sanitized), cached in the temp directory under
// a hash of its sources and of every header it could include, so a rerun with unchanged sources
// reuses the build.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cudaInclude } from './cuda_sim/cuda-headers.mjs';
import { translateCuda } from './cuda_sim/translate-cuda.mjs';

export { cudaInclude };

export const ROOT = path.resolve(__dirname, '../..');

export interface NativeProgram {
  name: string;
  sources: string[];
  /** Include directories relative to ROOT (their .h / .cuh files are hashed), then absolute ones. */
  includes: string[];
  systemIncludes?: string[];
  std: 'c++17' | 'c++20';
  extraFlags?: string[];
  /** .cu files relative to ROOT, run on the host: translated by cuda_sim/translate-cuda.mjs, built with cuda_sim.h. */
  cudaSources?: string[];
}

/** Why programs with cudaSources cannot be built here, or null when they can. */
export function cudaSimUnavailable(): string | null {
  if (spawnSync('g++', ['--version']).status !== 0) return 'g++ not found';
  return cudaInclude() ? null : 'no CUDA headers (cuda_bf16.h) found';
}

// Sanitized, with line tables for the reports (-g1: a third less compile time than -g).
const BASE_FLAGS = ['-O1', '-g1', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-Wall', '-Wextra', '-Werror'];

function sourcesHash(p: NativeProgram): string {
  const hash = createHash('sha256');
  const headers = p.includes.flatMap((d) => (readdirSync(path.join(ROOT, d), { recursive: true }) as string[])
    .filter((f) => /\.(h|cuh)$/.test(f)).map((f) => path.join(d, f))).sort();
  const translator = path.relative(ROOT, path.join(__dirname, 'cuda_sim/translate-cuda.mjs'));
  for (const f of [...p.sources, ...(p.cudaSources ?? []), ...headers, translator]) hash.update(f).update(readFileSync(path.join(ROOT, f)));
  hash.update(JSON.stringify([p.std, BASE_FLAGS, p.extraFlags ?? [], p.systemIncludes ?? []]));
  return hash.digest('hex').slice(0, 16);
}

/** The path of the built program (built now unless a build of the same sources exists). */
export function buildNativeProgram(p: NativeProgram): string {
  const hash = sourcesHash(p);
  const exe = path.join(os.tmpdir(), `hs-${p.name}-${hash}`);
  if (!existsSync(exe)) {
    const flags = [`-std=${p.std}`, ...BASE_FLAGS, ...(p.extraFlags ?? []), ...p.includes.map((d) => `-I${d}`), ...(p.systemIncludes ?? []).map((d) => `-isystem${d}`)];
    const translated = (p.cudaSources ?? []).map((f) => {
      const out = path.join(os.tmpdir(), `hs-${p.name}-${hash}-src`, `${f.replace(/[/\\]/g, '_')}.cpp`);
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, translateCuda(readFileSync(path.join(ROOT, f), 'utf8'), f));
      return out;
    });
    // -fno-strict-aliasing: device code reads 16-byte vectors as their elements, which nvcc allows.
    const sim = translated.length ? ['-fno-strict-aliasing', '-include', 'test/native/cuda_sim/cuda_sim.h', '-Itest/native/cuda_sim', `-isystem${cudaInclude()}`, 'test/native/cuda_sim/cuda_sim_runtime.cpp'] : [];
    execFileSync('g++', [...flags, ...sim, ...p.sources, ...translated, '-lpthread', '-o', `${exe}.${process.pid}`], { cwd: ROOT, stdio: 'pipe' });
    renameSync(`${exe}.${process.pid}`, exe);
  }
  return exe;
}

/** Runs a built program from ROOT: its exit status and its output; one still running after timeoutMs (a deadlock) is killed. */
export function runNativeProgram(exe: string, timeoutMs = 300_000, args: string[] = []): { status: number | null; out: string } {
  const run = spawnSync(exe, args, { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  const out = `${run.stdout}${run.stderr}${run.error ? `\n${run.error.message}` : ''}`;
  if (run.status !== 0) console.log(out);
  return { status: run.status, out };
}
