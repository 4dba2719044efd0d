// npm run models:synth -- --preset tiny|smollm2-135m --out FILE [--seed N] [--type f32|f16|q8_0]
// npm run models:synth -- --lora --base MODEL.gguf --out FILE [--rank N] [--alpha X] [--seed N]
// npm run models:synth -- --chat qwen3|llama-3.1|... --out FILE   (a chat family of models/chat-families.ts)
import { parseArgs } from "node:util";
import { basename } from "node:path";
import { CHAT_FAMILIES, type ChatFamilyName, synthChatModel } from "./chat-families.js";
import { GgmlType } from "./gguf.js";
import { PRESETS, type PresetName } from "./presets.js";
import { synthLora } from "./synth-lora.js";
import { synthModel } from "./synth-model.js";

const WEIGHT_TYPES: Record<string, GgmlType> = { f32: GgmlType.F32, f16: GgmlType.F16, q8_0: GgmlType.Q8_0 };

const { values } = parseArgs({
  options: {
    preset: { type: "string" },
    out: { type: "string" },
    seed: { type: "string" },
    type: { type: "string" },
    lora: { type: "boolean" },
    base: { type: "string" },
    rank: { type: "string" },
    alpha: { type: "string" },
    chat: { type: "string" },
  },
});

function usage(message: string): never {
  console.error(`models:synth: ${message}`);
  process.exit(2);
}

const out = values.out ?? usage("--out FILE is required");
const seed = values.seed === undefined ? undefined : Number(values.seed);
const started = Date.now();
if (values.lora) {
  synthLora({
    base: values.base ?? usage("--lora needs --base MODEL.gguf"),
    out,
    ...(values.rank ? { rank: Number(values.rank) } : {}),
    ...(values.alpha ? { alpha: Number(values.alpha) } : {}),
    ...(seed === undefined ? {} : { seed }),
  });
} else if (values.chat !== undefined) {
  if (!(values.chat in CHAT_FAMILIES))
    usage(`unknown chat family "${values.chat}" (${Object.keys(CHAT_FAMILIES).join(", ")})`);
  synthChatModel(values.chat as ChatFamilyName, out);
} else {
  const name = values.preset ?? usage(`--preset is required (${Object.keys(PRESETS).join(", ")})`);
  if (!(name in PRESETS)) usage(`unknown preset "${name}" (${Object.keys(PRESETS).join(", ")})`);
  const weightType =
    values.type === undefined ? undefined : (WEIGHT_TYPES[values.type] ?? usage(`unknown --type ${values.type}`));
  synthModel({
    preset: PRESETS[name as PresetName],
    name: basename(out, ".gguf"),
    out,
    ...(seed === undefined ? {} : { seed }),
    ...(weightType === undefined ? {} : { weightType }),
  });
}
console.log(`wrote ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
