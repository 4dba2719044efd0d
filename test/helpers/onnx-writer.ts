// A minimal ONNX protobuf writer, so tests can build small real models for onnxruntime without Python: a graph
// of nodes over named inputs, float initializers, and outputs. Field numbers are those of onnx/onnx.proto.

type Bytes = Uint8Array;

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const concat = (parts: readonly Bytes[]): Bytes => {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
};
const intField = (field: number, value: number | bigint): Bytes =>
  Uint8Array.from([...varint(field << 3), ...varint(value)]);
const bytesField = (field: number, value: Bytes): Bytes =>
  concat([Uint8Array.from([...varint((field << 3) | 2), ...varint(value.byteLength)]), value]);
const stringField = (field: number, value: string): Bytes => bytesField(field, new TextEncoder().encode(value));

export const ElementType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

export interface ValueInfo {
  readonly name: string;
  readonly elementType: number;
  /** A number for a fixed axis, a name for a dynamic one. */
  readonly shape: readonly (number | string)[];
}

export interface Node {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly ints?: Readonly<Record<string, number | readonly number[]>>;
}

export interface FloatInitializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

function valueInfo({ name, elementType, shape }: ValueInfo): Bytes {
  const dims = shape.map((d) => bytesField(1, typeof d === "number" ? intField(1, d) : stringField(2, d)));
  const tensorType = concat([intField(1, elementType), bytesField(2, concat(dims))]);
  return concat([stringField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

function node({ op, inputs, outputs, ints = {} }: Node, index: number): Bytes {
  const attributes = Object.entries(ints).map(([name, value]) =>
    bytesField(
      5,
      typeof value === "number"
        ? concat([stringField(1, name), intField(3, value), intField(20, 2)])
        : concat([stringField(1, name), ...value.map((v) => intField(8, v)), intField(20, 7)]),
    ),
  );
  return concat([
    ...inputs.map((i) => stringField(1, i)),
    ...outputs.map((o) => stringField(2, o)),
    stringField(3, `n${index}`),
    stringField(4, op),
    ...attributes,
  ]);
}

function initializer({ name, dims, data }: FloatInitializer): Bytes {
  return concat([
    ...dims.map((d) => intField(1, d)),
    intField(2, ElementType.FLOAT),
    stringField(8, name),
    bytesField(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
  ]);
}

/** An ONNX model (IR 7, default-domain opset `opset`) as bytes ready for a model.onnx file. */
export function onnxModel({
  inputs,
  outputs,
  nodes,
  initializers = [],
  opset = 11,
}: {
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  nodes: readonly Node[];
  initializers?: readonly FloatInitializer[];
  opset?: number;
}): Bytes {
  const graph = concat([
    ...nodes.map((n, i) => bytesField(1, node(n, i))),
    stringField(2, "graph"),
    ...initializers.map((t) => bytesField(5, initializer(t))),
    ...inputs.map((v) => bytesField(11, valueInfo(v))),
    ...outputs.map((v) => bytesField(12, valueInfo(v))),
  ]);
  return concat([
    intField(1, 7),
    stringField(2, "loom-tests"),
    bytesField(7, graph),
    bytesField(8, concat([stringField(1, ""), intField(2, opset)])),
  ]);
}
