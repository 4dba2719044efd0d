// Vector helpers shared by the embedding paths (GGUF and ONNX).

/** The vector scaled to unit L2 length; a zero vector is returned as is. */
export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm > 0 ? vector.map((x) => x / norm) : vector;
}
