// A minimal GGUF v3 reader (metadata only) and writer, enough to make synthetic models and adapters.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

export enum GgufType {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q8_0 = 8,
}

export type GgufScalar = number | bigint | boolean | string;
export interface GgufValue {
  readonly type: GgufType;
  readonly elementType?: GgufType;
  readonly value: GgufScalar | readonly GgufScalar[];
}

const ALIGNMENT = 32;
const SCALAR_SIZES: Partial<Record<GgufType, number>> = {
  [GgufType.U8]: 1,
  [GgufType.I8]: 1,
  [GgufType.BOOL]: 1,
  [GgufType.U16]: 2,
  [GgufType.I16]: 2,
  [GgufType.U32]: 4,
  [GgufType.I32]: 4,
  [GgufType.F32]: 4,
  [GgufType.U64]: 8,
  [GgufType.I64]: 8,
  [GgufType.F64]: 8,
};

/** Reads the metadata key/values of a GGUF file (tensor data is not read). */
export function readGgufMetadata(path: string): Map<string, GgufValue> {
  const buf = readFileSync(path);
  let at = 0;
  const u32 = () => {
    const v = buf.readUInt32LE(at);
    at += 4;
    return v;
  };
  const u64 = () => {
    const v = buf.readBigUInt64LE(at);
    at += 8;
    return Number(v);
  };
  const str = () => {
    const n = u64();
    const s = buf.toString("utf8", at, at + n);
    at += n;
    return s;
  };
  const scalar = (type: GgufType): GgufScalar => {
    switch (type) {
      case GgufType.U8:
        return buf.readUInt8(at++);
      case GgufType.I8:
        return buf.readInt8(at++);
      case GgufType.BOOL:
        return buf.readUInt8(at++) !== 0;
      case GgufType.U16:
        at += 2;
        return buf.readUInt16LE(at - 2);
      case GgufType.I16:
        at += 2;
        return buf.readInt16LE(at - 2);
      case GgufType.U32:
        return u32();
      case GgufType.I32:
        at += 4;
        return buf.readInt32LE(at - 4);
      case GgufType.F32:
        at += 4;
        return buf.readFloatLE(at - 4);
      case GgufType.U64:
        at += 8;
        return buf.readBigUInt64LE(at - 8);
      case GgufType.I64:
        at += 8;
        return buf.readBigInt64LE(at - 8);
      case GgufType.F64:
        at += 8;
        return buf.readDoubleLE(at - 8);
      case GgufType.STRING:
        return str();
      default:
        throw new Error(`unsupported GGUF value type ${type}`);
    }
  };
  if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${path} is not a GGUF file`);
  at = 4;
  const version = u32();
  if (version !== 3) throw new Error(`${path}: GGUF version ${version} is not supported`);
  u64(); // tensor count
  const kvCount = u64();
  const out = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = u32() as GgufType;
    if (type === GgufType.ARRAY) {
      const elementType = u32() as GgufType;
      const count = u64();
      const values: GgufScalar[] = new Array(count);
      for (let j = 0; j < count; j++) values[j] = scalar(elementType);
      out.set(key, { type, elementType, value: values });
    } else {
      out.set(key, { type, value: scalar(type) });
    }
  }
  return out;
}

export interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[]; // ggml order: ne0 (contiguous) first
  readonly type: GgmlType;
  readonly data: () => Uint8Array; // produced lazily so a large model is never held whole in memory
}

function tensorByteSize(dims: readonly number[], type: GgmlType): number {
  const elements = dims.reduce((a, b) => a * b, 1);
  if (type === GgmlType.F32) return elements * 4;
  if (type === GgmlType.F16) return elements * 2;
  if (dims[0]! % 32 !== 0) throw new Error(`Q8_0 needs ne0 divisible by 32, got ${dims[0]}`);
  return (elements / 32) * 34;
}

class Encoder {
  readonly parts: Buffer[] = [];
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
  }
  u64(v: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
  }
  str(s: string) {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.parts.push(bytes);
  }
  scalar(type: GgufType, v: GgufScalar) {
    const size = SCALAR_SIZES[type];
    if (type === GgufType.STRING) return this.str(String(v));
    if (size === undefined) throw new Error(`unsupported GGUF value type ${type}`);
    const b = Buffer.alloc(size);
    switch (type) {
      case GgufType.U8:
        b.writeUInt8(Number(v));
        break;
      case GgufType.I8:
        b.writeInt8(Number(v));
        break;
      case GgufType.BOOL:
        b.writeUInt8(v ? 1 : 0);
        break;
      case GgufType.U16:
        b.writeUInt16LE(Number(v));
        break;
      case GgufType.I16:
        b.writeInt16LE(Number(v));
        break;
      case GgufType.U32:
        b.writeUInt32LE(Number(v));
        break;
      case GgufType.I32:
        b.writeInt32LE(Number(v));
        break;
      case GgufType.F32:
        b.writeFloatLE(Number(v));
        break;
      case GgufType.U64:
        b.writeBigUInt64LE(BigInt(v));
        break;
      case GgufType.I64:
        b.writeBigInt64LE(BigInt(v));
        break;
      case GgufType.F64:
        b.writeDoubleLE(Number(v));
        break;
    }
    this.parts.push(b);
  }
}

/** Writes a GGUF v3 file: metadata, tensor infos, then each tensor's data at 32-byte alignment. */
export function writeGguf(
  path: string,
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly TensorSpec[],
): void {
  const header = new Encoder();
  header.parts.push(Buffer.from("GGUF", "latin1"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.size);
  for (const [key, { type, elementType, value }] of metadata) {
    header.str(key);
    header.u32(type);
    if (type === GgufType.ARRAY) {
      const values = value as readonly GgufScalar[];
      header.u32(elementType!);
      header.u64(values.length);
      for (const v of values) header.scalar(elementType!, v);
    } else {
      header.scalar(type, value as GgufScalar);
    }
  }
  let offset = 0;
  for (const tensor of tensors) {
    header.str(tensor.name);
    header.u32(tensor.dims.length);
    for (const d of tensor.dims) header.u64(d);
    header.u32(tensor.type);
    header.u64(offset);
    offset += Math.ceil(tensorByteSize(tensor.dims, tensor.type) / ALIGNMENT) * ALIGNMENT;
  }
  const fd = openSync(path, "w");
  try {
    const head = Buffer.concat(header.parts);
    writeSync(fd, head);
    writeSync(fd, Buffer.alloc((ALIGNMENT - (head.length % ALIGNMENT)) % ALIGNMENT));
    for (const tensor of tensors) {
      const data = tensor.data();
      const expected = tensorByteSize(tensor.dims, tensor.type);
      if (data.length !== expected)
        throw new Error(`tensor ${tensor.name}: ${data.length} bytes, expected ${expected}`);
      writeSync(fd, data);
      writeSync(fd, Buffer.alloc((ALIGNMENT - (data.length % ALIGNMENT)) % ALIGNMENT));
    }
  } finally {
    closeSync(fd);
  }
}
