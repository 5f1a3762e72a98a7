// Float16 ONNX models on device 'cuda': the builder widens them to float32 inside
// (widen_half_floats.cpp), so every node places on the device, while the engine's inputs and
// outputs keep the model's types. Checked against onnxruntime-node running the same float16 model
// (which upcasts the nodes it has no float16 kernel for) on fresh random inputs, for a model that is
// float16 throughout and for a mixed-precision export (float32 inputs and outputs, Casts to float16
// inside), at precision fp32 and fp16; and the boundary cases: a graph input passed through as an
// output, an initializer as an output, ConstantOfShape with a float16 value.
import { describe, expect, it } from 'vitest';

import { halfTensor, halfValues, toFloat16 } from '../fixtures/float16-model';
import { cnnModel, transformerModel } from '../fixtures/models';
import { floatTensorAttr, GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { hs, ortRun } from '../helpers';
import { cuda, loadCuda, relErrorNaN } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;
const compiled = cuda.compiled ? describe : describe.skip;

type Feeds = Record<string, hs.TensorLike>;

const asFloats = (t: { type: string; data: unknown }) =>
  ({ data: t.type === 'float16' ? halfValues(t.data as Uint16Array) : (t.data as Float32Array) });

async function expectHalfModelMatchesOrt(model: Uint8Array, feeds: Feeds, bound: number, options: hs.EngineOptions = {}) {
  expect((await hs.cudaPlacement(model)).cpuNodes).toEqual([]);
  const engine = await loadCuda(model, options);
  try {
    const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
    for (const name of engine.outputNames) {
      const got = ours[name] as hs.Tensor;
      expect(got.type, name).toBe(ref[name].type);
      expect(got.dims, name).toEqual(ref[name].dims);
      expect(relErrorNaN(asFloats(got), asFloats(ref[name])), name).toBeLessThan(bound);
    }
    return engine.info;
  } finally {
    engine.dispose();
  }
}

const seed = () => Math.floor(Math.random() * 1e9);

compiled('float16 models place wholly on the device', () => {
  it('a float16 CNN and a mixed-precision encoder have no CPU node', async () => {
    for (const model of [toFloat16(cnnModel({ size: 16 })), toFloat16(transformerModel({ layers: 1 }), { keepIoTypes: true })]) {
      const placement = await hs.cudaPlacement(model);
      expect(placement.cpuNodes).toEqual([]);
    }
  });
});

withDevice('float16 models on the CUDA backend against onnxruntime-node', () => {
  it('a CNN that is float16 throughout, precision fp32 and fp16', async () => {
    const model = toFloat16(cnnModel({ size: 16 }));
    const feeds = { input: halfTensor(randomFloats(2 * 3 * 16 * 16, seed()), [2, 3, 16, 16]) };
    for (const precision of ['fp32', 'fp16'] as const) {
      const info = await expectHalfModelMatchesOrt(model, feeds, 2e-2, { precision });
      expect(info.fusions.some((f) => f.startsWith('FusedConv')), precision).toBe(true);
    }
  });

  it('a mixed-precision encoder (float32 inputs and outputs, float16 inside)', async () => {
    const model = toFloat16(transformerModel({ layers: 1 }), { keepIoTypes: true });
    const mask = new Float32Array(2 * 7).fill(1);
    mask.fill(0, 12);
    const feeds = { x: { type: 'float32' as const, dims: [2, 7, 64], data: randomFloats(2 * 7 * 64, seed()) }, mask: { type: 'float32' as const, dims: [2, 7], data: mask } };
    await expectHalfModelMatchesOrt(model, feeds, 2e-2);
  });

  it('an input passed through, an initializer as an output and ConstantOfShape with a float16 value', async () => {
    const g = new GraphBuilder('boundary');
    const x = g.input('x', 'float16', [2, 3]);
    const w = g.init('w', new Float32Array([0.5, -1.25, 2]), [3]);
    const shape = g.init('shape', new BigInt64Array([2n, 3n]), [2]);
    const filled = g.op('ConstantOfShape', [shape], { value: floatTensorAttr([0.375], [1]) });
    g.output(g.op('Add', [g.op('Mul', [x, w]), filled]), 'float16', [2, 3]);
    g.output(x, 'float16', [2, 3]);
    g.output(w, 'float16', [3]);
    const model = toFloat16(g.build(17));
    const info = await expectHalfModelMatchesOrt(model, { x: halfTensor(randomFloats(6, seed(), 4), [2, 3]) }, 1e-3);
    expect(info.backend.cpuNodes).toEqual([]);
  });
});
