#!/usr/bin/env node
// Builds the addon with its CUDA backend running on the host (build-sim/highservice_native.node):
// every source of the real build (scripts/native-sources.js), the .cu files translated for cuda_sim.h,
// HS_WITH_CUDA on, and cuda_sim_runtime.cpp standing in for cudart. Loaded through HS_ADDON_PATH,
// it lets the GPU suites (test/gpu) run on machines without a GPU. Objects are kept per source and
// rebuilt when the source or any header changes. Usage: node test/native/cuda_sim/build-sim-addon.mjs
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { cudaInclude } from './cuda-headers.mjs';
import { translateCuda } from './translate-cuda.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(ROOT, 'build-sim');
const require = createRequire(import.meta.url);

function sources(kind) {
  return execFileSync(process.execPath, ['scripts/native-sources.js', kind], { cwd: ROOT, encoding: 'utf8' }).split(';').filter(Boolean);
}

// The headers in `dir` a source could include: a change to any of them rebuilds what includes the dir.
function headersHash(dir) {
  const hash = createHash('sha256');
  for (const f of readdirSync(path.join(ROOT, dir), { recursive: true }).sort())
    if (/\.(h|cuh|hpp|mjs)$/.test(f)) hash.update(f).update(readFileSync(path.join(ROOT, dir, f)));
  return hash;
}

async function main() {
  const include = cudaInclude();
  if (!include) throw new Error('no CUDA headers (cuda_bf16.h) found: the simulated addon needs them');
  mkdirSync(path.join(OUT, 'obj'), { recursive: true });
  const common = ['-std=c++20', '-O1', '-g0', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-Wno-unknown-pragmas',
    '-DHS_WITH_CUDA=1', '-DNAPI_VERSION=8', '-DNODE_ADDON_API_DISABLE_DEPRECATED', '-DNAPI_CPP_EXCEPTIONS',
    `-I${require('node-api-headers').include_dir}`, `-I${path.resolve(ROOT, require('node-addon-api').include_dir)}`,
    '-Inative/include', '-Inative', '-Itest/native/cuda_sim', `-isystem${include}`];
  const native = headersHash('native').update(JSON.stringify(common));
  const sim = headersHash('test/native/cuda_sim').digest('hex');  // cuda_sim.h and the translator
  const units = [...sources('cpu'), ...sources('cuda'), 'test/native/cuda_sim/cuda_sim_runtime.cpp'].map((src) => {
    const text = readFileSync(path.join(ROOT, src), 'utf8');
    const usesSim = src.endsWith('.cu') || src.includes('cuda_sim');
    const key = native.copy().update(usesSim ? sim : '').update(src).update(text).digest('hex').slice(0, 16);
    return { src, text, obj: path.join(OUT, 'obj', `${src.replace(/[/\\]/g, '_')}.${key}.o`) };
  });
  const todo = units.filter((u) => !existsSync(u.obj));
  const run = promisify(execFile);
  let next = 0, done = 0;
  async function worker() {
    while (next < todo.length) {
      const u = todo[next++];
      let file = u.src;
      const flags = [...common];
      if (u.src.endsWith('.cu')) {
        file = path.join(OUT, 'src', `${u.src.replace(/[/\\]/g, '_')}.cpp`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, translateCuda(u.text, u.src));
        // Device code reads 16-byte vectors as their elements (type punning nvcc allows).
        flags.push('-fno-strict-aliasing', '-include', 'test/native/cuda_sim/cuda_sim.h');
      }
      await run('g++', [...flags, '-c', file, '-o', `${u.obj}.tmp`], { cwd: ROOT, maxBuffer: 64 << 20 });
      renameSync(`${u.obj}.tmp`, u.obj);
      process.stdout.write(`[${++done}/${todo.length}] ${u.src}\n`);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, os.availableParallelism()) }, worker));
  const addon = path.join(OUT, 'highservice_native.node');
  execFileSync('g++', ['-shared', '-o', `${addon}.tmp`, ...units.map((u) => u.obj), '-lpthread', '-ldl'], { cwd: ROOT });
  // Symbols left to the loader are N-API's; a CUDA call the stand-in lacks would fail only when reached.
  const missing = execFileSync('nm', ['-u', `${addon}.tmp`], { encoding: 'utf8' }).split('\n').filter((l) => /\bcu[A-Z]\w*$|\bcuda[A-Z]/.test(l));
  if (missing.length) throw new Error(`cuda_sim_runtime.cpp lacks: ${missing.map((l) => l.trim().split(/\s+/).pop()).join(', ')}`);
  renameSync(`${addon}.tmp`, addon);
  console.log(`built ${path.relative(ROOT, addon)} (${todo.length} of ${units.length} sources compiled)`);
}

main().catch((err) => {
  console.error(err.stderr ?? err.message);
  process.exit(1);
});
