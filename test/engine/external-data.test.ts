// Initializers stored in an external data file next to the model, as large exporters write them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor, relError } from '../helpers';

function externalModel(dir: string): string {
  const b = new GraphBuilder('external');
  const x = b.input('x', 'float32', ['n', 8]);
  const w = b.init('w', randomFloats(8 * 4, 3), [8, 4]);
  const bias = b.init('bias', randomFloats(4, 5), [4]);
  b.output(b.op('Add', [b.op('MatMul', [x, w]), bias]), 'float32', ['n', 4]);
  const graph = b.graph();
  // Move both initializers into weights.bin (bias after w, at a 64-byte aligned offset).
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const t of graph.initializer ?? []) {
    const raw = Buffer.from(t.rawData as Uint8Array);
    t.rawData = undefined;
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    const padded = Buffer.alloc(Math.ceil(raw.length / 64) * 64);
    raw.copy(padded);
    blobs.push(padded);
    offset += padded.length;
  }
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat(blobs));
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph }).finish());
  return file;
}

describe('external data', () => {
  it('loads initializers from the external file and matches onnxruntime-node', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-ext-'));
    const file = externalModel(dir);
    const engine = await hs.Engine.load(file, { cacheDir: false });
    const feeds = { x: randomTensor([3, 8]) };
    const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(file, feeds)]);
    expect(relError(ours[engine.outputNames[0]], ref[engine.outputNames[0]])).toBeLessThan(1e-5);
    engine.dispose();
  });

  it('fails clearly when the external file is missing or too short', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-ext-'));
    const file = externalModel(dir);
    fs.truncateSync(path.join(dir, 'weights.bin'), 16);
    await expect(hs.Engine.load(file, { cacheDir: false })).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
    fs.rmSync(path.join(dir, 'weights.bin'));
    await expect(hs.Engine.load(file, { cacheDir: false })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(hs.Engine.load(fs.readFileSync(file), { cacheDir: false })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
