// Test model repositories written to a temp folder: a small MLP (MatMul + Add + Relu with a
// symbolic batch dimension) under the Triton layout, with an optional config.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';

export const MLP_IN = 16;
export const MLP_OUT = 8;

/** The name of the MLP's output. */
export const MLP_OUTPUT = 'relu2_0';

/** x [batch, 16] -> MLP_OUTPUT [batch, 8]: Relu(x @ W + b). */
export function mlpModel(seed = 3): Uint8Array {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['batch', MLP_IN]);
  const w = b.init('w', randomFloats(MLP_IN * MLP_OUT, seed, 0.5), [MLP_IN, MLP_OUT]);
  const bias = b.init('bias', randomFloats(MLP_OUT, seed + 1, 0.5), [MLP_OUT]);
  const y = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, w]), bias])]);
  b.output(y, 'float32', ['batch', MLP_OUT]);
  return b.build();
}

export interface TestRepository {
  root: string;
  models: Record<string, Uint8Array>;
  remove(): void;
}

/**
 * A repository with one model per entry of `configs` (its config.json, or null for none): MLPs
 * (`mlp` gets versions 1 and 2 with different weights), or the bytes given in `models`.
 */
export function makeRepository(configs: Record<string, object | null> = { mlp: null }, given: Record<string, Uint8Array> = {}): TestRepository {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hs-repo-'));
  const models: Record<string, Uint8Array> = {};
  for (const [name, config] of Object.entries(configs)) {
    const versions = name === 'mlp' ? [1, 2] : [1];
    for (const v of versions) {
      const bytes = given[name] ?? mlpModel(v * 10 + name.length);
      mkdirSync(path.join(root, name, String(v)), { recursive: true });
      writeFileSync(path.join(root, name, String(v), 'model.onnx'), bytes);
      models[`${name}/${v}`] = bytes;
    }
    if (config) writeFileSync(path.join(root, name, 'config.json'), JSON.stringify(config));
  }
  return { root, models, remove: () => rmSync(root, { recursive: true, force: true }) };
}
