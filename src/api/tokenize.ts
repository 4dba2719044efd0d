// POST /tokenize and /detokenize, with vLLM's request and response shapes.
import { Hono } from "hono";
import { plainChat } from "../serving/llm/chat.js";
import type { Routing } from "../routing/routing.js";
import { readJson } from "./body.js";
import { toChatMessages } from "./openai/prompts.js";
import { DetokenizeRequest, TokenizeRequest } from "./openai/schemas.js";

export function tokenizeRoutes(routing: Routing): Hono {
  // A route tokenizes as its primary target does.
  const servingOf = (model: string | undefined) => (model ? routing.primary(model).serving : routing.registry.first());
  return new Hono()
    .post("/tokenize", async (c) => {
      const body = await readJson(c, TokenizeRequest);
      const serving = servingOf(body.model);
      const tokens =
        "messages" in body
          ? serving.renderChat(plainChat(toChatMessages(body.messages))).promptTokens
          : serving.model.tokenize(body.prompt, { addSpecial: body.add_special_tokens ?? true });
      return c.json({ tokens: [...tokens], count: tokens.length, max_model_len: serving.maxModelLen });
    })
    .post("/detokenize", async (c) => {
      const body = await readJson(c, DetokenizeRequest);
      const serving = servingOf(body.model);
      serving.checkPrompt(body.tokens, { param: "tokens" });
      return c.json({ prompt: serving.model.detokenize(Int32Array.from(body.tokens), { unparseSpecial: true }) });
    });
}
