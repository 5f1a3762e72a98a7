// `highservice bench <model>`: engine latency and throughput with tinybench, side by side with
// onnxruntime-node in the same process and on the same threads (--vs onnxruntime).
import { readFile } from 'node:fs/promises';

import { Engine, type EngineOptions, type EngineProfile } from '../engine/Engine';
import { HsError } from '../errors';
import { parseDims, randomFeeds } from './feeds';
import { formatProfile } from './profile-table';
import { summarize } from './stats';

export interface BenchCommandOptions {
  vs?: string;
  batch: string;
  threads: string;
  time: string;
  dim?: string[];
  label?: string;
  device?: string;
  precision?: string;
  /** Time every node of the highservice runs (the runs' p50 then includes the timing's own cost). */
  profile?: boolean;
}

export interface BenchRow {
  model: string;
  batch: number;
  runtime: string;
  p50: number;
  p90: number;
  p99: number;
  throughput: number; // inferences (batch items) per second
  profile?: EngineProfile; // highservice's nodes over the measured runs, with --profile
}

type OrtModule = typeof import('onnxruntime-node');

async function loadOrt(): Promise<OrtModule> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    throw new HsError('ERR_NOT_FOUND', `--vs onnxruntime needs the onnxruntime-node package: ${(e as Error).message}`);
  }
}

export async function benchModel(model: string, options: BenchCommandOptions): Promise<BenchRow[]> {
  const { Bench } = await import('tinybench');
  const threads = Number(options.threads);
  const engine = await Engine.load(model, {
    threads, cacheDir: false, profile: options.profile,
    device: (options.device ?? 'cpu') as EngineOptions['device'], precision: (options.precision ?? 'fp32') as EngineOptions['precision'],
  });
  const ort = options.vs === 'onnxruntime' ? await loadOrt() : undefined;
  const session = ort
    ? await ort.InferenceSession.create(await readFile(model), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' })
    : undefined;
  const rows: BenchRow[] = [];
  const label = options.label ?? model;
  for (const batch of options.batch.split(',').map(Number)) {
    const feeds = randomFeeds(engine.inputs, { ...parseDims(options.dim), batch });
    const bench = new Bench({ time: Number(options.time), warmupTime: 200, retainSamples: true });
    bench.add('highservice', async () => { await engine.run(feeds); });
    if (ort && session) {
      const ortFeeds = Object.fromEntries(
        Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims as number[])]),
      );
      bench.add('onnxruntime-node', async () => { await session.run(ortFeeds); });
    }
    await bench.run();
    // Over this batch size's runs, the warm-up's included.
    const profile = options.profile ? engine.profile({ reset: true }) : undefined;
    for (const task of bench.tasks) {
      const result = task.result as { latency?: { samples?: number[] } } | undefined;
      const samples = result?.latency?.samples;
      if (!samples?.length) throw new HsError('ERR_INTERNAL', `benchmark task ${task.name} produced no samples`);
      const s = summarize([...samples]);
      rows.push({
        model: label, batch, runtime: task.name, p50: s.p50, p90: s.p90, p99: s.p99, throughput: (1000 / s.p50) * batch,
        ...(task.name === 'highservice' && profile ? { profile } : {}),
      });
    }
  }
  engine.dispose();
  await session?.release();
  return rows;
}

export function formatRows(rows: BenchRow[]): string {
  const lines = ['| model | batch | runtime | p50 ms | p90 ms | p99 ms | items/s | p50 vs onnxruntime |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const peer = rows.find((o) => o.model === r.model && o.batch === r.batch && o.runtime === 'onnxruntime-node');
    const ratio = peer && r.runtime !== 'onnxruntime-node' ? (r.p50 / peer.p50).toFixed(2) : '';
    lines.push(`| ${r.model} | ${r.batch} | ${r.runtime} | ${r.p50.toFixed(3)} | ${r.p90.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.throughput.toFixed(0)} | ${ratio} |`);
  }
  return lines.join('\n');
}

export async function benchCommand(model: string, options: BenchCommandOptions): Promise<void> {
  const rows = await benchModel(model, options);
  console.log(formatRows(rows));
  for (const r of rows) if (r.profile) console.log(`\nbatch ${r.batch}, highservice's nodes:\n${formatProfile(r.profile)}`);
}
