import { Engine, type EngineOptions } from '../engine/Engine';
import { parseDims, randomFeeds } from './feeds';
import { summarize } from './stats';

export interface RunCommandOptions {
  dim?: string[];
  batch?: string;
  runs: string;
  threads?: string;
  streams?: string;
  device?: EngineOptions['device'];
  cache?: boolean;
}

/** `highservice run <model>`: loads, runs on random inputs, prints outputs and timings. */
export async function runCommand(model: string, options: RunCommandOptions): Promise<void> {
  const engine = await Engine.load(model, {
    device: options.device,
    threads: options.threads ? Number(options.threads) : undefined,
    streams: options.streams ? Number(options.streams) : undefined,
    cacheDir: options.cache === false ? false : undefined,
  });
  const { info } = engine;
  console.log(`loaded ${model} in ${info.loadMs.toFixed(1)} ms (${info.cache}) on ${info.device}, ${info.threads} threads, ${info.nodes} nodes`);
  if (info.fallbackReason) console.log(`  cuda not used: ${info.fallbackReason}`);
  if (info.fusions.length) console.log(`  fusions: ${info.fusions.length} (${info.fusions.slice(0, 4).join(', ')}${info.fusions.length > 4 ? ', ...' : ''})`);
  const dims = parseDims(options.dim);
  if (options.batch) dims.batch = Number(options.batch);
  const feeds = randomFeeds(engine.inputs, dims);
  for (const [name, t] of Object.entries(feeds)) console.log(`input  ${name}: ${t.type}[${t.dims.join(', ')}] (random)`);
  const times: number[] = [];
  let outputs = {} as Awaited<ReturnType<Engine['run']>>;
  for (let i = 0; i < Math.max(1, Number(options.runs)); i++) {
    const t0 = performance.now();
    outputs = await engine.run(feeds);
    times.push(performance.now() - t0);
  }
  for (const [name, value] of Object.entries(outputs)) {
    if (value === null) console.log(`output ${name}: empty optional`);
    const tensors = value === null ? [] : Array.isArray(value) ? value : [value];
    tensors.forEach((t, i) => {
      const head = Array.from(t.data as ArrayLike<number | bigint | string>).slice(0, 6).map((v) => (typeof v === 'number' ? v.toPrecision(4) : String(v)));
      const label = Array.isArray(value) ? `${name}[${i}]` : name;
      console.log(`output ${label}: ${t.type}[${t.dims.join(', ')}] ${head.join(' ')}${t.size > 6 ? ' ...' : ''}`);
    });
  }
  const s = summarize(times.slice(times.length > 1 ? 1 : 0));
  console.log(`first run ${times[0].toFixed(2)} ms; ${times.length} runs: p50 ${s.p50.toFixed(2)} ms, p90 ${s.p90.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`);
  engine.dispose();
}
