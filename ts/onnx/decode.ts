// ONNX import: decodes ModelProto bytes with onnx-proto (protobufjs) into the plain GraphDesc that
// the native builder takes. Initializer bytes stay views of the model bytes where the file stores
// raw_data; typed repeated fields and external data files are converted to little-endian bytes;
// string tensors become string[] (UTF-8 decoded). Value types are tensors, sequences of tensors
// and optionals of either.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';

import type { AttrDesc, GraphDesc, NodeDesc, TensorDesc, ValueInfoDesc, ValueKind } from '../binding';
import { HsError } from '../errors';

type LongLike = number | { toNumber(): number; toString(): string };

const toNumber = (v: LongLike | null | undefined): number =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

const DT = onnx.TensorProto.DataType;
const textDecoder = new TextDecoder();

export interface DecodeOptions {
  /** Folder that external-data locations are relative to (the model file's folder). */
  baseDir?: string;
}

export async function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Promise<GraphDesc> {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new HsError('ERR_INVALID_MODEL', `not a valid ONNX model: ${(e as Error).message}`, { cause: e });
  }
  if (!model.graph) throw new HsError('ERR_INVALID_MODEL', 'not a valid ONNX model: it has no graph');
  const opsets: Record<string, number> = {};
  for (const o of model.opsetImport ?? []) {
    const domain = !o.domain || o.domain === 'ai.onnx' ? '' : o.domain;
    opsets[domain] = toNumber(o.version as LongLike);
  }
  if (opsets[''] === undefined) opsets[''] = 1;
  if (opsets[''] < 1 || opsets[''] > 21)
    throw new HsError('ERR_UNSUPPORTED_OP', `ai.onnx opset ${opsets['']} is outside the supported range 1..21`);
  const ctx: Ctx = { baseDir: options.baseDir, files: new Map() };
  return decodeGraph(model.graph, opsets, ctx);
}

const LEGACY_ATTRIBUTES = new Set(['consumed_inputs', 'broadcast']);

interface Ctx {
  baseDir?: string;
  files: Map<string, Promise<Buffer>>;
}

async function decodeGraph(g: onnx.IGraphProto, opsets: Record<string, number>, ctx: Ctx): Promise<GraphDesc> {
  const initializers = await Promise.all((g.initializer ?? []).map((t) => decodeTensor(t, ctx)));
  const initNames = new Set(initializers.map((t) => t.name));
  const nodes: NodeDesc[] = [];
  for (const [i, n] of (g.node ?? []).entries()) {
    const attrs: AttrDesc[] = [];
    for (const a of n.attribute ?? []) {
      // Kernels implement opset >= 7 semantics; an older model is fine unless a node uses what changed.
      if (LEGACY_ATTRIBUTES.has(a.name ?? ''))
        throw new HsError('ERR_UNSUPPORTED_OP', `${n.opType} node '${n.name ?? ''}': attribute '${a.name}' (opset < 7 semantics) is not supported`);
      attrs.push(await decodeAttribute(a, n, opsets, ctx));
    }
    nodes.push({
      name: n.name || `${n.opType ?? 'node'}_${i}`,
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attrs,
    });
  }
  return {
    name: g.name ?? '',
    opsets,
    inputs: (g.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(decodeValueInfo),
    outputs: (g.output ?? []).map(decodeValueInfo),
    initializers,
    nodes,
  };
}

function decodeValueInfo(v: onnx.IValueInfoProto): ValueInfoDesc {
  return decodeType(v.name ?? '', v.type, `value '${v.name ?? ''}'`);
}

/** A TypeProto as a value description: tensor, seq(tensor), optional(tensor) or optional(seq(tensor)). */
function decodeType(name: string, t: onnx.ITypeProto | null | undefined, where: string): ValueInfoDesc {
  let kind: ValueKind = 'tensor';
  let inner = t;
  if (t?.optionalType) {
    inner = t.optionalType.elemType;
    kind = inner?.sequenceType ? 'optional(sequence)' : 'optional(tensor)';
    if (inner?.sequenceType) inner = inner.sequenceType.elemType;
  } else if (t?.sequenceType) {
    kind = 'sequence';
    inner = t.sequenceType.elemType;
  }
  if (inner && (inner.sequenceType || inner.optionalType || inner.mapType || inner.sparseTensorType))
    throw new HsError('ERR_TYPE', `${where} has a type this engine does not support (only tensors, sequences of tensors and optionals of them)`);
  if (t && t !== inner && inner && !inner.tensorType)
    throw new HsError('ERR_TYPE', `${where} is a ${kind} of a non-tensor type, which this engine does not support`);
  const tt = inner?.tensorType;
  const dims = tt?.shape
    ? (tt.shape.dim ?? []).map((d) => (d.dimValue != null ? toNumber(d.dimValue as LongLike) : d.dimParam || '?'))
    : null;
  return { name, type: tt?.elemType ?? 0, dims, kind };
}

async function decodeAttribute(
  a: onnx.IAttributeProto,
  node: onnx.INodeProto,
  opsets: Record<string, number>,
  ctx: Ctx,
): Promise<AttrDesc> {
  const name = a.name ?? '';
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.FLOAT: return { name, kind: 'f', value: a.f ?? 0 };
    case T.INT: return { name, kind: 'i', value: toNumber(a.i as LongLike) };
    case T.STRING: return { name, kind: 's', value: textDecoder.decode(a.s ?? new Uint8Array()) };
    case T.TENSOR: return { name, kind: 't', value: await decodeTensor(a.t ?? {}, ctx) };
    case T.GRAPH: return { name, kind: 'g', value: await decodeGraph(a.g ?? {}, opsets, ctx) };
    case T.FLOATS: return { name, kind: 'fs', value: a.floats ?? [] };
    case T.INTS: return { name, kind: 'is', value: (a.ints ?? []).map((v) => toNumber(v as LongLike)) };
    case T.STRINGS: return { name, kind: 'ss', value: (a.strings ?? []).map((s) => textDecoder.decode(s)) };
    case T.TYPE_PROTO: return { name, kind: 'tp', value: decodeType('', a.tp, `${node.opType} node '${node.name ?? ''}' attribute '${name}'`) };
    default:
      throw new HsError(
        'ERR_UNSUPPORTED_OP',
        `${node.opType} node '${node.name ?? ''}': attribute '${name}' has an unsupported type (${String(a.type)})`,
      );
  }
}

const ELEMENT_BYTES: Record<number, number> = {
  [DT.FLOAT]: 4, [DT.UINT8]: 1, [DT.INT8]: 1, [DT.UINT16]: 2, [DT.INT16]: 2, [DT.INT32]: 4, [DT.INT64]: 8,
  [DT.BOOL]: 1, [DT.FLOAT16]: 2, [DT.DOUBLE]: 8, [DT.UINT32]: 4, [DT.UINT64]: 8, [DT.BFLOAT16]: 2,
};

async function decodeTensor(t: onnx.ITensorProto, ctx: Ctx): Promise<TensorDesc> {
  const name = t.name ?? '';
  const type = t.dataType ?? 0;
  const dims = (t.dims ?? []).map((d) => toNumber(d as LongLike));
  const count = dims.reduce((a, b) => a * b, 1);
  if (type === DT.STRING) return decodeStringTensor(t, name, dims, count);
  const size = ELEMENT_BYTES[type];
  if (size === undefined) throw new HsError('ERR_TYPE', `tensor '${name}' has unsupported element type ${type}`);
  let data: Uint8Array;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    data = await readExternal(t, ctx, count * size);
  } else if (t.rawData && t.rawData.length > 0) {
    data = t.rawData;
  } else {
    data = typedFieldBytes(t, type, count);
  }
  if (data.byteLength !== count * size)
    throw new HsError('ERR_INVALID_MODEL', `tensor '${name}' holds ${data.byteLength} bytes; its dims ${JSON.stringify(dims)} need ${count * size}`);
  return { name, type, dims, data };
}

function decodeStringTensor(t: onnx.ITensorProto, name: string, dims: number[], count: number): TensorDesc {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new HsError('ERR_INVALID_MODEL', `string tensor '${name}' cannot live in external data`);
  const data = (t.stringData ?? []).map((s) => textDecoder.decode(s));
  if (data.length !== count)
    throw new HsError('ERR_INVALID_MODEL', `string tensor '${name}' holds ${data.length} strings; its dims ${JSON.stringify(dims)} need ${count}`);
  return { name, type: DT.STRING, dims, data };
}

function typedFieldBytes(t: onnx.ITensorProto, type: number, count: number): Uint8Array {
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (type) {
    case DT.FLOAT: return bytesOf(Float32Array.from(t.floatData ?? []));
    case DT.DOUBLE: return bytesOf(Float64Array.from(t.doubleData ?? []));
    case DT.INT32: return bytesOf(Int32Array.from(t.int32Data ?? []));
    case DT.INT16: return bytesOf(Int16Array.from(t.int32Data ?? []));
    case DT.UINT16: case DT.FLOAT16: case DT.BFLOAT16: return bytesOf(Uint16Array.from(t.int32Data ?? []));
    case DT.INT8: return bytesOf(Int8Array.from(t.int32Data ?? []));
    case DT.UINT8: case DT.BOOL: return bytesOf(Uint8Array.from(t.int32Data ?? []));
    case DT.INT64: return bytesOf(BigInt64Array.from((t.int64Data ?? []) as LongLike[], (v) => BigInt(v.toString())));
    case DT.UINT32: return bytesOf(Uint32Array.from((t.uint64Data ?? []) as LongLike[], (v) => toNumber(v)));
    case DT.UINT64: return bytesOf(BigUint64Array.from((t.uint64Data ?? []) as LongLike[], (v) => BigInt.asUintN(64, BigInt(v.toString()))));
    default: return new Uint8Array(0);
  }
}

async function readExternal(t: onnx.ITensorProto, ctx: Ctx, expected: number): Promise<Uint8Array> {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new HsError('ERR_INVALID_MODEL', `tensor '${t.name}' is external but names no location`);
  if (!ctx.baseDir)
    throw new HsError('ERR_INVALID_ARGUMENT', `tensor '${t.name}' lives in external file '${location}': load the model from a path`);
  const file = path.resolve(ctx.baseDir, location);
  if (path.relative(ctx.baseDir, file).startsWith('..'))
    throw new HsError('ERR_INVALID_MODEL', `external data location '${location}' leaves the model folder`);
  let pending = ctx.files.get(file);
  if (!pending) {
    pending = fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new HsError('ERR_NOT_FOUND', `external data file '${location}' of tensor '${t.name}': ${e.message}`);
    });
    ctx.files.set(file, pending);
  }
  const buf = await pending;
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : expected;
  if (!(offset >= 0 && length >= 0 && offset + length <= buf.byteLength))
    throw new HsError('ERR_INVALID_MODEL', `external data of tensor '${t.name}' lies outside '${location}'`);
  return buf.subarray(offset, offset + length);
}
