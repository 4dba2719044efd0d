// Setup file of the GPU model tests (test/gpu/vitest.config.ts): a model a test loads without saying where goes to
// the GPU whole, as `loom serve` places it by default on a GPU, so the same assertions check the GPU's kernels.
// A test that names its gpuLayers keeps them.
import { LlamaModel } from "../../src/backend/llama/llama-model.js";

const load = LlamaModel.load.bind(LlamaModel);
LlamaModel.load = (path, options = {}) => load(path, { gpuLayers: -1, ...options });
