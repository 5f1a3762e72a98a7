#!/usr/bin/env node
// The serving bench: for a small MLP and the example CNN, at concurrency 1, 16 and 64, compares
//   direct      engine.run in this process, no batching (the floor for latency)
//   batched     DynamicBatcher + engine.run in this process, the model's batching config
//   hs-1proc    `highservice serve --workers 0` over loopback HTTP (binary tensors)
//   hs-Nworkers `highservice serve --workers N`: N HTTP workers + one GPU process, tensors in shared memory
//   plain-ort   plain fastify + onnxruntime-node server, one session.run per request
//   echo        fastify answering with the request's bytes, no model: the loopback HTTP floor
// Servers run in child processes; this process generates the load (keep-alive, back to back).
// Prints a markdown table and the goals: added p50 over direct engine.run at concurrency 1 for
// the MLP (goal <= 0.2 ms), the IPC cost of the process model, and the batched server's
// throughput over the plain server's at concurrency 64 on the CNN (goal >= 3x).
// --device cuda runs our engines (direct, batched and the servers) on the GPU; the plain server
// stays onnxruntime-node on the CPU, the only build of it that installs here (no CUDA provider).
//   node bench/serving/serving-bench.mjs [--time ms] [--threads n] [--streams n] [--workers 1,4]
//     [--models mlp,cnn] [--device cpu|cuda] [--precision fp32|fp16|bf16] [--out file.md]
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { mlpModel } from './mlp-model.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const hs = require(path.join(root, 'lib/index.js'));
const { benchHttp } = require(path.join(root, 'lib/cli/bench-http.js'));
const { summarize } = require(path.join(root, 'lib/cli/stats.js'));

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const time = Number(opt('--time', '3000'));
const threads = Number(opt('--threads', '1'));
const streams = Number(opt('--streams', '1'));
const workerCounts = opt('--workers', '1').split(',').map(Number);
const levels = [1, 16, 64];
const only = opt('--models', 'mlp,cnn').split(',');
const device = opt('--device', 'cpu');
const precision = opt('--precision', 'fp32');

const MODELS = {
  mlp: { bytes: () => mlpModel(), shape: [1, 64], config: { maxBatchSize: 64, maxQueueDelayMs: 0 } },
  cnn: { bytes: () => fs.readFileSync(path.join(root, 'examples/models/cnn/1/model.onnx')), shape: [1, 3, 64, 64], config: { maxBatchSize: 32, maxQueueDelayMs: 1 } },
};

function repositoryOf(name, model) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-bench-'));
  fs.mkdirSync(path.join(dir, name, '1'), { recursive: true });
  fs.writeFileSync(path.join(dir, name, '1', 'model.onnx'), model.bytes());
  fs.writeFileSync(path.join(dir, name, 'config.json'), JSON.stringify({ ...model.config, threads, streams, device, precision }));
  return dir;
}

/** `concurrency` loops calling fn back to back for `time` ms, after an untimed warm-up (as benchHttp). */
async function load(fn, concurrency) {
  for (const until = performance.now() + Math.min(500, time / 2); performance.now() < until;) await fn();
  const latencies = [];
  const until = performance.now() + time;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await fn();
      latencies.push(performance.now() - t0);
    }
  }));
  const s = summarize(latencies);
  return { requests: latencies.length, errors: 0, throughput: latencies.length / ((performance.now() - started) / 1000), p50: s.p50, p99: s.p99 };
}

function startChild(script, argv) {
  return new Promise((resolve, reject) => {
    const child = fork(script, argv, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('exit', (code) => reject(new Error(`${path.basename(script)} exited with ${code}`)));
    child.once('message', () => resolve(child));
  });
}

async function waitReady(url) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/v2/health/ready`)).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready`);
}

async function startHsServer(repo, port, workers) {
  const child = fork(path.join(root, 'lib/cli/main.js'), ['serve', repo, '--port', String(port), '--workers', String(workers), '--no-cache'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await waitReady(`http://127.0.0.1:${port}`);
  return child;
}

async function stop(child) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const rows = [];
let port = 18000 + (process.pid % 1000);
for (const name of only) {
  const model = MODELS[name];
  const repo = repositoryOf(name, model);
  const file = path.join(repo, name, '1', 'model.onnx');
  const engine = await hs.Engine.load(file, { threads, streams, device, precision, cacheDir: false });
  const n = model.shape.reduce((a, b) => a * b, 1);
  const feeds = { [engine.inputNames[0]]: { type: 'float32', dims: model.shape, data: Float32Array.from({ length: n }, () => Math.random()) } };
  const batcher = new hs.DynamicBatcher(engine, { ...model.config, maxConcurrentBatches: streams });
  for (const c of levels) rows.push({ model: name, setup: 'direct', concurrency: c, ...(await load(() => engine.run(feeds), c)) });
  for (const c of levels) rows.push({ model: name, setup: 'batched', concurrency: c, ...(await load(() => batcher.run(feeds), c)) });
  await batcher.close();
  engine.dispose();

  const http = async (setup, start) => {
    const p = port++;
    const child = await start(p);
    const bench = await benchHttp(`http://127.0.0.1:${p}`, { model: name, concurrency: levels.join(','), time: String(time), batch: '1', shape: [`${engine.inputNames[0]}=${model.shape.join('x')}`] });
    rows.push(...bench.map((r) => ({ model: name, setup, concurrency: r.concurrency, requests: r.requests, errors: r.errors, throughput: r.throughput, p50: r.p50, p99: r.p99 })));
    await stop(child);
  };
  await http('hs-1proc', (p) => startHsServer(repo, p, 0));
  for (const w of workerCounts) await http(`hs-${w}workers`, (p) => startHsServer(repo, p, w));
  await http('plain-ort', (p) => startChild(path.join(root, 'bench/serving/plain-ort-server.mjs'), [file, String(p), String(threads)]));
  await http('echo', (p) => startChild(path.join(root, 'bench/serving/echo-server.mjs'), [String(p), engine.inputNames[0], model.shape.join('x')]));
  fs.rmSync(repo, { recursive: true, force: true });
}

const find = (model, setup, c) => rows.find((r) => r.model === model && r.setup === setup && r.concurrency === c);
const lines = [
  `# Serving bench (${device === 'cuda' ? `CUDA ${precision}: ${hs.devices().cuda.devices?.[0]?.name ?? 'GPU'}` : 'CPU engine'})`, '',
  `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0].model}, ${os.cpus().length} cores (load generator and server share them), ${threads} engine thread(s) x ${streams} stream(s) (onnxruntime-node: ${threads} intra-op threads, concurrent runs on libuv's pool), node ${process.version}, ${time} ms per cell, batch-1 requests, binary tensors over keep-alive loopback HTTP.`, '',
  '| model | setup | concurrency | requests | errors | req/s | p50 ms | p99 ms |', '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.model} | ${r.setup} | ${r.concurrency} | ${r.requests} | ${r.errors} | ${r.throughput.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`),
  '',
];
if (find('mlp', 'direct', 1)) {
  const added = find('mlp', 'hs-1proc', 1).p50 - find('mlp', 'direct', 1).p50;
  const ipc = find('mlp', `hs-${workerCounts[0]}workers`, 1).p50 - find('mlp', 'hs-1proc', 1).p50;
  const floor = find('mlp', 'echo', 1).p50;
  lines.push(`- added p50 of the HTTP server over direct engine.run, MLP, concurrency 1: **${added.toFixed(3)} ms** (goal <= 0.2 ms); ` +
    `the loopback floor (echo server, no model) is ${floor.toFixed(3)} ms, so the serving layers cost ${(added - floor).toFixed(3)} ms beyond it and the run itself`);
  lines.push(`- process model (worker -> GPU process through shared memory) over the single process, MLP, concurrency 1: **${ipc.toFixed(3)} ms** per call`);
}
if (find('cnn', 'hs-1proc', 64)) {
  const best = Math.max(...rows.filter((r) => r.model === 'cnn' && r.setup.startsWith('hs-') && r.concurrency === 64).map((r) => r.throughput));
  lines.push(`- CNN at concurrency 64: batched server ${best.toFixed(0)} req/s vs plain fastify + onnxruntime-node ${find('cnn', 'plain-ort', 64).throughput.toFixed(0)} req/s: **${(best / find('cnn', 'plain-ort', 64).throughput).toFixed(2)}x** (goal >= 3x)`);
}
const table = lines.join('\n') + '\n';
console.log(table);
const out = opt('--out');
if (out) fs.writeFileSync(out, table);
