// The sequence and optional operators (SplitToSequence, SequenceInsert / Erase / At / Length,
// ConcatFromSequence, SequenceMap, a Loop carrying a sequence, OptionalHasElement /
// GetElement) inside models whose inputs and outputs are tensors, against onnxruntime-node on
// fresh random inputs.
import { expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor } from '../helpers';

async function expectSame(model: Uint8Array, feeds: Record<string, ReturnType<typeof randomTensor>>) {
  const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
  const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
  engine.dispose();
  for (const name of Object.keys(ref)) {
    expect(ours[name].dims, name).toEqual(ref[name].dims);
    expect(Array.from(ours[name].data as ArrayLike<number | bigint>), name).toEqual(Array.from(ref[name].data as ArrayLike<number | bigint>));
  }
}

const int64s = (b: GraphBuilder, name: string, values: number[], dims: number[] = [values.length]) =>
  b.init(name, BigInt64Array.from(values.map(BigInt)), dims);

it('split, insert, erase, pick, count and concatenate a sequence', async () => {
  const b = new GraphBuilder('sequences');
  const x = b.input('x', 'float32', [4, 6]);
  const parts = b.op('SplitToSequence', [x, int64s(b, 'split', [2, 3, 1])], { axis: 1 });  // [4,2] [4,3] [4,1]
  const more = b.op('SequenceInsert', [parts, b.input('t', 'float32', [4, 2]), int64s(b, 'front', [0], [])]);
  const fewer = b.op('SequenceErase', [more, int64s(b, 'last', [-1], [])]);  // [4,2](t) [4,2] [4,3]
  b.output(b.op('SequenceAt', [fewer, int64s(b, 'second', [1], [])]), 'float32');
  b.output(b.op('SequenceLength', [fewer]), 'int64');
  b.output(b.op('ConcatFromSequence', [fewer], { axis: 1 }), 'float32');
  b.output(b.op('ConcatFromSequence', [b.op('SplitToSequence', [x], { axis: 0, keepdims: 0 })], { axis: 0, new_axis: 1 }), 'float32');
  await expectSame(b.build(13), { x: randomTensor([4, 6]), t: randomTensor([4, 2]) });
});

it('SequenceMap adds a tensor to every element', async () => {
  const body = new GraphBuilder('body');
  const element = body.input('element', 'float32', null);
  const shift = body.input('shift', 'float32', null);
  body.output(body.op('Add', [element, shift]), 'float32');
  const b = new GraphBuilder('map');
  const parts = b.op('SplitToSequence', [b.input('x', 'float32', [3, 5]), int64s(b, 'chunk', [2], [])], { axis: 1 });
  const mapped = b.op('SequenceMap', [parts, b.input('s', 'float32', [3, 1])], { body: body.graph() });
  b.output(b.op('ConcatFromSequence', [mapped], { axis: 1 }), 'float32');
  await expectSame(b.build(17), { x: randomTensor([3, 5]), s: randomTensor([3, 1]) });
});

it('a Loop carries a sequence it grows each step', async () => {
  // The body: cond passes through; the sequence gains x * step (x from the enclosing graph).
  const body = new GraphBuilder('body');
  const step = body.input('step', 'int64', []);
  const cond = body.input('cond', 'bool', []);
  const carried = body.input('carried', 'float32', null, 'sequence');
  body.output(body.op('Identity', [cond]), 'bool');
  body.output(body.op('SequenceInsert', [carried, body.op('Mul', ['x', body.op('Cast', [step], { to: 1 })])]), 'float32', null, 'sequence');
  const b = new GraphBuilder('loop');
  b.input('x', 'float32', [2, 3]);
  const looped = b.op('Loop', [int64s(b, 'trips', [4], []), '', b.op('SequenceEmpty', [])], { body: body.graph() });
  b.output(b.op('ConcatFromSequence', [looped], { axis: 0, new_axis: 1 }), 'float32');
  b.output(b.op('SequenceLength', [looped]), 'int64');
  await expectSame(b.build(13), { x: randomTensor([2, 3]) });
});

it('OptionalHasElement and OptionalGetElement of a present optional', async () => {
  const b = new GraphBuilder('optional');
  const wrapped = b.op('Optional', [b.input('x', 'float32', [3])]);
  b.output(b.op('OptionalHasElement', [wrapped]), 'bool');
  b.output(b.op('Neg', [b.op('OptionalGetElement', [wrapped])]), 'float32');
  await expectSame(b.build(18), { x: randomTensor([3]) });
});
