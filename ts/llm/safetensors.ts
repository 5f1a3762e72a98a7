// Finds the tensors of a Hugging Face checkpoint: model.safetensors.index.json (sharded) or every
// *.safetensors file, each read as an 8-byte little-endian header length, a JSON header
// { name: { dtype, shape, data_offsets: [begin, end] } } and the raw bytes. Only headers are read
// here; the native loader maps the files.
import { open, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

import { HsError } from '../errors';
import type { NativeTensorDesc, StoredDType } from './native';

const DTYPES: Record<string, { dtype: StoredDType; size: number }> = {
  F32: { dtype: 'float32', size: 4 },
  F16: { dtype: 'float16', size: 2 },
  BF16: { dtype: 'bfloat16', size: 2 },
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export async function readSafetensorsHeader(file: string): Promise<NativeTensorDesc[]> {
  const fh = await open(file, 'r').catch((e: Error) => {
    throw new HsError('ERR_NOT_FOUND', `cannot open ${file}: ${e.message}`, { cause: e });
  });
  try {
    const { size } = await fh.stat();
    const lengthBytes = Buffer.alloc(8);
    if (size < 8 || (await fh.read(lengthBytes, 0, 8, 0)).bytesRead !== 8)
      throw new HsError('ERR_INVALID_MODEL', `${file} is too short to be a safetensors file`);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES || headerLength > size - 8)
      throw new HsError('ERR_INVALID_MODEL', `${file}: header length ${headerLength} does not fit the file (${size} bytes)`);
    const headerBytes = Buffer.alloc(headerLength);
    await fh.read(headerBytes, 0, headerLength, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new HsError('ERR_INVALID_MODEL', `${file}: the header is not valid JSON`, { cause: e });
    }
    const dataStart = 8 + headerLength;
    const tensors: NativeTensorDesc[] = [];
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const kind = DTYPES[String(e.dtype)];
      if (!kind) throw new HsError('ERR_TYPE', `${file}: tensor ${name} has dtype ${String(e.dtype)}; F32, F16 and BF16 are supported`);
      const shape = e.shape, offsets = e.data_offsets;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || !Array.isArray(offsets) || offsets.length !== 2)
        throw new HsError('ERR_INVALID_MODEL', `${file}: tensor ${name} has a malformed shape or data_offsets`);
      const [begin, end] = offsets as number[];
      const bytes = (shape as number[]).reduce((a, b) => a * b, 1) * kind.size;
      if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end - begin === bytes && dataStart + end <= size))
        throw new HsError('ERR_INVALID_MODEL', `${file}: tensor ${name} has data_offsets [${begin}, ${end}] that do not fit its shape or the file`);
      tensors.push({ name, file, dtype: kind.dtype, shape: shape as number[], offset: dataStart + begin, bytes });
    }
    return tensors;
  } finally {
    await fh.close();
  }
}

async function shardFiles(dir: string): Promise<string[]> {
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const index = await readFile(indexFile, 'utf8').catch(() => null);
  if (index !== null) {
    let weightMap: unknown;
    try {
      weightMap = (JSON.parse(index) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new HsError('ERR_INVALID_MODEL', `${indexFile} is not valid JSON`, { cause: e });
    }
    if (typeof weightMap !== 'object' || weightMap === null) throw new HsError('ERR_INVALID_MODEL', `${indexFile} has no weight_map`);
    const files = [...new Set(Object.values(weightMap as Record<string, unknown>).map(String))];
    if (files.some((f) => path.basename(f) !== f)) throw new HsError('ERR_INVALID_MODEL', `${indexFile} names a shard outside the model directory`);
    return files.map((f) => path.join(dir, f));
  }
  const entries = await readdir(dir).catch((e: Error) => {
    throw new HsError('ERR_NOT_FOUND', `cannot read model directory ${dir}: ${e.message}`, { cause: e });
  });
  const files = entries.filter((f) => f.endsWith('.safetensors')).sort();
  if (files.length === 0) throw new HsError('ERR_NOT_FOUND', `${dir} holds no *.safetensors file`);
  return files.map((f) => path.join(dir, f));
}

/** Every tensor of the checkpoint in `dir`; a name found in two shards is an error. */
export async function readCheckpointTensors(dir: string): Promise<NativeTensorDesc[]> {
  const all: NativeTensorDesc[] = [];
  const seen = new Set<string>();
  for (const file of await shardFiles(dir)) {
    for (const t of await readSafetensorsHeader(file)) {
      if (seen.has(t.name)) throw new HsError('ERR_INVALID_MODEL', `tensor ${t.name} appears in more than one shard`);
      seen.add(t.name);
      all.push(t);
    }
  }
  return all;
}
