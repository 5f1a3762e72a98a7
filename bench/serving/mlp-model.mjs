// The "small model" of the serving bench, written with onnx-proto: x [batch, 64] -> two Gemm
// layers (64 -> 128 -> 16) with a symbolic batch dimension.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');

function weights(n, seed) {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * 0.2;
  });
}

const tensor = (name, dims, data) => ({ name, dataType: 1, dims, rawData: new Uint8Array(data.buffer) });
const valueInfo = (name, dims) => ({
  name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

export function mlpModel({ input = 64, hidden = 128, output = 16 } = {}) {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'mlp',
      input: [valueInfo('x', ['batch', input])],
      output: [valueInfo('y', ['batch', output])],
      initializer: [
        tensor('w1', [input, hidden], weights(input * hidden, 1)), tensor('b1', [hidden], weights(hidden, 2)),
        tensor('w2', [hidden, output], weights(hidden * output, 3)), tensor('b2', [output], weights(output, 4)),
      ],
      node: [
        { opType: 'Gemm', input: ['x', 'w1', 'b1'], output: ['h'], name: 'fc1' },
        { opType: 'Gemm', input: ['h', 'w2', 'b2'], output: ['y'], name: 'fc2' },
      ],
    },
  }).finish();
}
