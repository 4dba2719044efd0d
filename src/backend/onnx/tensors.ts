// KServe v2 datatypes and their typed arrays: the one table between the wire, the configs and onnxruntime.

export type KserveDatatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP32"
  | "FP64";
export const KSERVE_DATATYPES: readonly KserveDatatype[] = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP32",
  "FP64",
];

export type TensorData =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

interface TensorArrayConstructor {
  new (length: number): TensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
}

interface TypeInfo {
  readonly ort: string;
  readonly array: TensorArrayConstructor;
  readonly bigint: boolean;
}

const TYPES: Record<KserveDatatype, TypeInfo> = {
  BOOL: { ort: "bool", array: Uint8Array, bigint: false },
  UINT8: { ort: "uint8", array: Uint8Array, bigint: false },
  UINT16: { ort: "uint16", array: Uint16Array, bigint: false },
  UINT32: { ort: "uint32", array: Uint32Array, bigint: false },
  UINT64: { ort: "uint64", array: BigUint64Array, bigint: true },
  INT8: { ort: "int8", array: Int8Array, bigint: false },
  INT16: { ort: "int16", array: Int16Array, bigint: false },
  INT32: { ort: "int32", array: Int32Array, bigint: false },
  INT64: { ort: "int64", array: BigInt64Array, bigint: true },
  FP32: { ort: "float32", array: Float32Array, bigint: false },
  FP64: { ort: "float64", array: Float64Array, bigint: false },
};

export function ortType(datatype: KserveDatatype): string {
  return TYPES[datatype].ort;
}

export function datatypeOfOrt(type: string): KserveDatatype | null {
  return KSERVE_DATATYPES.find((d) => TYPES[d].ort === type) ?? null;
}

export function allocate(datatype: KserveDatatype, length: number): TensorData {
  return new TYPES[datatype].array(length);
}

export function bytesPerElement(datatype: KserveDatatype): number {
  return TYPES[datatype].array.BYTES_PER_ELEMENT;
}

/** The whole of a buffer as the datatype's typed array. */
export function viewOf(datatype: KserveDatatype, buffer: ArrayBuffer): TensorData {
  return new TYPES[datatype].array(buffer, 0, buffer.byteLength / bytesPerElement(datatype));
}

/** Flat JSON numbers (or booleans) as the datatype's typed array; throws RangeError on a value that does not fit. */
export function fromJson(datatype: KserveDatatype, values: readonly unknown[]): TensorData {
  const out = allocate(datatype, values.length);
  const info = TYPES[datatype];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (datatype === "BOOL") {
      if (typeof v !== "boolean" && v !== 0 && v !== 1) throw new RangeError(`element ${i} is not a boolean`);
      (out as Uint8Array)[i] = v === true || v === 1 ? 1 : 0;
    } else if (typeof v !== "number" || (!Number.isFinite(v) && !datatype.startsWith("FP"))) {
      throw new RangeError(`element ${i} is not a number`);
    } else if (info.bigint) {
      if (!Number.isInteger(v)) throw new RangeError(`element ${i} is not an integer`);
      (out as BigInt64Array)[i] = BigInt(v);
    } else {
      if (!datatype.startsWith("FP") && !Number.isInteger(v)) throw new RangeError(`element ${i} is not an integer`);
      (out as Float64Array)[i] = v;
      if (!datatype.startsWith("FP") && (out as Float64Array)[i] !== v)
        throw new RangeError(`element ${i} (${v}) does not fit ${datatype}`);
    }
  }
  return out;
}

export function toJson(data: TensorData): (number | boolean)[] {
  return Array.from(data as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? Number(v) : v));
}

/**
 * Raw little-endian bytes (KServe's binary tensor data) as the datatype's typed array: a view where the bytes are
 * aligned for it, else a copy.
 */
export function fromBytes(datatype: KserveDatatype, bytes: Uint8Array): TensorData {
  const { array } = TYPES[datatype];
  if (bytes.byteLength % array.BYTES_PER_ELEMENT !== 0)
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${datatype} elements`);
  const length = bytes.byteLength / array.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % array.BYTES_PER_ELEMENT === 0) return new array(bytes.buffer, bytes.byteOffset, length);
  const out = allocate(datatype, length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function toBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
