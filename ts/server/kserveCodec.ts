// KServe v2 inference requests and responses: JSON tensors, and the binary tensor extension
// (the body starts with `Inference-Header-Content-Length` bytes of JSON; tensors that declare
// `parameters.binary_data_size` follow as raw little-endian bytes, in input order).
import type { TensorData } from '../binding';
import type { Feeds, Outputs } from '../batching/batchTensors';
import { HsError } from '../errors';
import { Tensor } from '../tensor';
import { datatypeOf, KSERVE_DATATYPES } from './datatypes';

export interface InferRequest {
  id?: string;
  feeds: Feeds;
  priority?: number;
  timeoutMs?: number;
  /** Outputs to return (all when undefined), each as JSON or binary. */
  outputs?: { name: string; binary: boolean }[];
  binaryByDefault: boolean;
}

export interface EncodedResponse {
  body: Buffer;
  /** Set when binary tensors follow the JSON header. */
  headerLength?: number;
}

const bad = (message: string) => new HsError('ERR_BAD_REQUEST', message);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function parseJsonHeader(bytes: Buffer): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw bad(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) throw bad('the request body must be a JSON object');
  return parsed;
}

function flatten(data: unknown[], out: unknown[] = []): unknown[] {
  for (const v of data) if (Array.isArray(v)) flatten(v, out);
    else out.push(v);
  return out;
}

function jsonTensorData(name: string, datatype: string, values: unknown[]): TensorData {
  const info = KSERVE_DATATYPES[datatype];
  if (datatype === 'FP16' || datatype === 'BF16') throw bad(`input '${name}': ${datatype} data must be sent as binary (binary_data_size)`);
  const Ctor = info.array as unknown as new (n: number) => TensorData;
  const out = new Ctor(values.length);
  const wide = datatype === 'INT64' || datatype === 'UINT64';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (datatype === 'BOOL') {
      if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw bad(`input '${name}': BOOL data must be true/false, got ${JSON.stringify(v)}`);
      (out as Uint8Array)[i] = v ? 1 : 0;
    } else {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`input '${name}': element ${i} is ${JSON.stringify(v)}, not a finite number`);
      if (wide) {
        if (!Number.isInteger(v)) throw bad(`input '${name}': ${datatype} element ${i} must be an integer, got ${v}`);
        (out as BigInt64Array)[i] = BigInt(v);
      } else (out as Float32Array)[i] = v;
    }
  }
  return out;
}

function binaryTensorData(name: string, datatype: string, bytes: Buffer): TensorData {
  const info = KSERVE_DATATYPES[datatype];
  if (bytes.length % info.bytes !== 0) throw bad(`input '${name}': ${bytes.length} binary bytes are not a whole number of ${datatype} elements`);
  const Ctor = info.array as unknown as new (n: number) => TensorData;
  const out = new Ctor(bytes.length / info.bytes);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

function decodeInput(input: unknown, index: number, binary: { body: Buffer; at: number }): [string, Tensor] {
  if (!isObject(input)) throw bad(`inputs[${index}] must be an object`);
  const { name, shape, datatype, data, parameters } = input;
  if (typeof name !== 'string' || name === '') throw bad(`inputs[${index}].name must be a non-empty string`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw bad(`input '${name}': shape must be an array of non-negative integers`);
  if (typeof datatype !== 'string' || !KSERVE_DATATYPES[datatype])
    throw bad(`input '${name}': unknown datatype ${JSON.stringify(datatype)}; known: ${Object.keys(KSERVE_DATATYPES).join(', ')}`);
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  let values: TensorData;
  const binarySize = isObject(parameters) ? parameters.binary_data_size : undefined;
  if (binarySize !== undefined) {
    if (!Number.isInteger(binarySize) || (binarySize as number) < 0) throw bad(`input '${name}': binary_data_size must be a non-negative integer`);
    const end = binary.at + (binarySize as number);
    if (end > binary.body.length) throw bad(`input '${name}': binary_data_size ${binarySize} runs past the end of the body`);
    values = binaryTensorData(name, datatype, binary.body.subarray(binary.at, end));
    binary.at = end;
  } else {
    if (!Array.isArray(data)) throw bad(`input '${name}': data must be an array (or use binary_data_size)`);
    values = jsonTensorData(name, datatype, flatten(data));
  }
  if (values.length !== count) throw bad(`input '${name}': shape ${JSON.stringify(shape)} needs ${count} elements, got ${values.length}`);
  return [name, new Tensor(KSERVE_DATATYPES[datatype].type, values, shape as number[])];
}

/** Parses an infer request body; `headerLength` is the Inference-Header-Content-Length header when sent. */
export function decodeInferRequest(body: Buffer, headerLength: string | undefined): InferRequest {
  let jsonBytes = body;
  let binaryAt = body.length;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.length)
      throw bad(`Inference-Header-Content-Length ${JSON.stringify(headerLength)} must be an integer in [0, ${body.length}]`);
    jsonBytes = body.subarray(0, n);
    binaryAt = n;
  }
  const request = parseJsonHeader(jsonBytes);
  if (!Array.isArray(request.inputs) || request.inputs.length === 0) throw bad('the request needs a non-empty "inputs" array');
  const binary = { body, at: binaryAt };
  const feeds: Feeds = {};
  request.inputs.forEach((input, i) => {
    const [name, tensor] = decodeInput(input, i, binary);
    if (feeds[name]) throw bad(`input '${name}' is given twice`);
    feeds[name] = tensor;
  });
  if (binary.at !== body.length) throw bad(`${body.length - binary.at} bytes after the last binary input are unaccounted for`);
  const parameters = isObject(request.parameters) ? request.parameters : {};
  const out: InferRequest = { feeds, binaryByDefault: parameters.binary_data_output === true };
  if (request.id !== undefined) {
    if (typeof request.id !== 'string') throw bad('"id" must be a string');
    out.id = request.id;
  }
  if (parameters.priority !== undefined) {
    if (!Number.isInteger(parameters.priority)) throw bad('parameters.priority must be an integer');
    out.priority = parameters.priority as number;
  }
  if (parameters.timeout !== undefined) {
    // Triton's request timeout parameter is in microseconds.
    if (!Number.isInteger(parameters.timeout) || (parameters.timeout as number) < 0) throw bad('parameters.timeout must be a non-negative integer (microseconds)');
    out.timeoutMs = (parameters.timeout as number) / 1000;
  }
  if (request.outputs !== undefined) {
    if (!Array.isArray(request.outputs)) throw bad('"outputs" must be an array');
    out.outputs = request.outputs.map((o, i) => {
      if (!isObject(o) || typeof o.name !== 'string') throw bad(`outputs[${i}] must be an object with a "name"`);
      const binaryData = isObject(o.parameters) ? o.parameters.binary_data : undefined;
      return { name: o.name, binary: binaryData === undefined ? out.binaryByDefault : binaryData === true };
    });
  }
  return out;
}

function jsonValues(t: Tensor): unknown[] {
  if (t.type === 'int64' || t.type === 'uint64') return Array.from(t.data as BigInt64Array, (v) => Number(v));
  if (t.type === 'bool') return Array.from(t.data as Uint8Array, (v) => v !== 0);
  return Array.from(t.data as Float32Array);
}

/** The response body: JSON, or a JSON header followed by binary tensors. */
export function encodeInferResponse(model: string, version: string, request: InferRequest, outputs: Outputs): EncodedResponse {
  const wanted = request.outputs ?? Object.keys(outputs).map((name) => ({ name, binary: request.binaryByDefault }));
  const chunks: Buffer[] = [];
  const described = wanted.map(({ name, binary }) => {
    const t = outputs[name];
    if (!t) throw bad(`model '${model}' has no output '${name}'; its outputs are ${JSON.stringify(Object.keys(outputs))}`);
    const datatype = datatypeOf(t.type);
    const base = { name, datatype, shape: [...t.dims] };
    if (Array.isArray(t.data)) return { ...base, data: [...t.data] }; // string tensors: JSON only
    if (!binary && t.type !== 'float16' && t.type !== 'bfloat16') return { ...base, data: jsonValues(t) };
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    chunks.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ model_name: model, model_version: version, ...(request.id !== undefined && { id: request.id }), outputs: described }));
  if (chunks.length === 0) return { body: header };
  return { body: Buffer.concat([header, ...chunks]), headerLength: header.length };
}
