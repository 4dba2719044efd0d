// One onnxruntime-node InferenceSession on its own thread. onnxruntime-node runs inference synchronously on the
// thread that calls run(), so a session on the main thread would stall HTTP handling for the whole of every batch.
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import {
  transferable,
  type RunMessage,
  type SessionSettings,
  type WireTensor,
  type WorkerReply,
} from "./worker-protocol.js";

const port = parentPort!;
const settings = workerData as SessionSettings;
const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

try {
  const session = await ort.InferenceSession.create(settings.path, {
    executionProviders: [settings.device],
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
  const meta = session as unknown as { inputMetadata?: readonly unknown[]; outputMetadata?: readonly unknown[] };
  port.on("message", async ({ id, feeds, outputNames }: RunMessage) => {
    try {
      const ortFeeds = Object.fromEntries(
        feeds.map((t) => [t.name, new ort.Tensor(t.type as "float32", t.data as Float32Array, [...t.dims])]),
      );
      const results = await session.run(ortFeeds, [...outputNames]);
      const outputs: WireTensor[] = outputNames.map((name) => ({
        name,
        type: results[name]!.type,
        dims: [...results[name]!.dims],
        data: results[name]!.data as WireTensor["data"],
      }));
      const { tensors, transfer } = transferable(outputs);
      const feedBuffers = [...new Set(feeds.map((t) => t.data.buffer as ArrayBuffer))];
      reply({ type: "result", id, outputs: tensors, feedBuffers }, [...transfer, ...feedBuffers]);
    } catch (error) {
      reply({ type: "error", id, message: error instanceof Error ? error.message : String(error) });
    }
  });
  reply({
    type: "ready",
    inputs: session.inputNames.map((name, i) => meta.inputMetadata?.[i] ?? { name }),
    outputs: session.outputNames.map((name, i) => meta.outputMetadata?.[i] ?? { name }),
  });
} catch (error) {
  reply({ type: "error", id: null, message: error instanceof Error ? error.message : String(error) });
}
