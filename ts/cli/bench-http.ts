// `highservice bench <http-url>`: load against a running KServe v2 server. For each concurrency,
// that many keep-alive connections send inference requests back to back (random inputs shaped
// from the model's metadata, binary tensors unless --json) for --time ms; reports throughput,
// p50/p99 latency and errors, after an untimed warm-up. The client is undici's connection pool,
// not node:http: it costs less per request, so the load generator takes less of the CPU it shares
// with the server and less of the latency it reports.
import { Pool } from 'undici';

import { HsError } from '../errors';
import { KSERVE_DATATYPES } from '../server/datatypes';
import { summarize } from './stats';

export interface HttpBenchOptions {
  model?: string;
  concurrency: string;
  time: string;
  batch: string;
  json?: boolean;
  /** input=AxBxC, fixing an input's shape (repeatable). */
  shape?: string[];
  apiKey?: string;
}

export interface HttpBenchRow {
  model: string;
  concurrency: number;
  requests: number;
  errors: number;
  throughput: number; // requests per second
  rowsPerSecond: number;
  p50: number;
  p99: number;
}

interface Metadata {
  inputs: { name: string; datatype: string; shape: number[] }[];
}

interface Prepared {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  rows: number;
}

async function request(pool: Pool, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  const res = await pool.request({ path, method, headers, body });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

function randomBytesOf(datatype: string, count: number): Buffer {
  const info = KSERVE_DATATYPES[datatype];
  if (!info) throw new HsError('ERR_TYPE', `cannot make random ${datatype} inputs`);
  const array = new (info.array as unknown as new (n: number) => { buffer: ArrayBuffer; [i: number]: number | bigint })(count);
  const wide = datatype.endsWith('64') && !datatype.startsWith('FP');
  for (let i = 0; i < count; i++)
    array[i] = datatype.startsWith('FP') ? Math.random() * 2 - 1 : wide ? BigInt((Math.random() * 8) | 0) : (Math.random() * 2) | 0;
  return Buffer.from(array.buffer);
}

function prepare(model: string, meta: Metadata, options: HttpBenchOptions, authHeaders: Record<string, string>): Prepared {
  const batch = Number(options.batch);
  const fixed = Object.fromEntries((options.shape ?? []).map((s) => {
    const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(s);
    if (!m) throw new HsError('ERR_INVALID_ARGUMENT', `--shape expects input=AxB..., got '${s}'`);
    return [m[1], m[2].split('x').map(Number)];
  }));
  const tensors = meta.inputs.map((input) => {
    const shape: number[] = fixed[input.name] ?? input.shape.map((d, axis) => (d >= 0 ? d : axis === 0 ? batch : 1));
    const count = shape.reduce((a, b) => a * b, 1);
    return { name: input.name, datatype: input.datatype, shape, bytes: randomBytesOf(input.datatype, count) };
  });
  const path = `/v2/models/${encodeURIComponent(model)}/infer`;
  if (options.json) {
    const inputs = tensors.map((t) => {
      const info = KSERVE_DATATYPES[t.datatype];
      const view = new (info.array as unknown as new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number | bigint>)(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / info.bytes);
      return { name: t.name, shape: t.shape, datatype: t.datatype, data: Array.from(view, Number) };
    });
    return { path, headers: { ...authHeaders, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ inputs })), rows: batch };
  }
  const header = Buffer.from(JSON.stringify({
    inputs: tensors.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.bytes.length } })),
    parameters: { binary_data_output: true },
  }));
  return {
    path,
    headers: { ...authHeaders, 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, ...tensors.map((t) => t.bytes)]),
    rows: batch,
  };
}

/** Runs the load and returns one row per concurrency. */
export async function benchHttp(url: string, options: HttpBenchOptions): Promise<HttpBenchRow[]> {
  const base = new URL(url);
  const authHeaders: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const levels = options.concurrency.split(',').map(Number);
  const pool = new Pool(base.origin, { connections: Math.max(...levels), pipelining: 1 });
  try {
    let model = options.model;
    if (!model) {
      const index = await request(pool, 'POST', '/v2/repository/index', authHeaders);
      const ready = (JSON.parse(index.body.toString()) as { name: string; state: string }[]).find((m) => m.state === 'READY');
      if (!ready) throw new HsError('ERR_MODEL_NOT_READY', `${url} has no READY model`);
      model = ready.name;
    }
    const meta = await request(pool, 'GET', `/v2/models/${encodeURIComponent(model)}`, authHeaders);
    if (meta.status !== 200) throw new HsError('ERR_MODEL_NOT_FOUND', `GET /v2/models/${model} answered ${meta.status}: ${meta.body.toString()}`);
    const prepared = prepare(model, JSON.parse(meta.body.toString()) as Metadata, options, authHeaders);
    // `concurrency` loops sending back to back for `ms`: latencies of the 200s and the other outcomes.
    const drive = async (concurrency: number, ms: number) => {
      const latencies: number[] = [];
      let errors = 0;
      const until = performance.now() + ms;
      const loop = async () => {
        while (performance.now() < until) {
          const started = performance.now();
          try {
            const res = await request(pool, 'POST', prepared.path, prepared.headers, prepared.body);
            if (res.status === 200) latencies.push(performance.now() - started);
            else errors++;
          } catch {
            errors++;
          }
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, loop));
      return { latencies, errors, seconds: (performance.now() - started) / 1000 };
    };
    // An untimed warm-up first, so that neither side's JIT compiler counts in the first level.
    await drive(Math.max(...levels), Math.min(500, Number(options.time) / 2));
    const rows: HttpBenchRow[] = [];
    for (const concurrency of levels) {
      const { latencies, errors, seconds } = await drive(concurrency, Number(options.time));
      const s = summarize(latencies);
      rows.push({
        model, concurrency, requests: latencies.length, errors, throughput: latencies.length / seconds,
        rowsPerSecond: (latencies.length * prepared.rows) / seconds, p50: s.p50, p99: s.p99,
      });
    }
    return rows;
  } finally {
    await pool.destroy();
  }
}

export function formatHttpRows(rows: HttpBenchRow[]): string {
  const lines = ['| model | concurrency | requests | errors | req/s | rows/s | p50 ms | p99 ms |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows)
    lines.push(`| ${r.model} | ${r.concurrency} | ${r.requests} | ${r.errors} | ${r.throughput.toFixed(0)} | ${r.rowsPerSecond.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`);
  return lines.join('\n');
}

export async function benchHttpCommand(url: string, options: HttpBenchOptions): Promise<void> {
  console.log(formatHttpRows(await benchHttp(url, options)));
}
