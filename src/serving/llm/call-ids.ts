// Tool-call ids, made by the server for every call, as vLLM makes them: ids some models write (Mistral, Command R)
// repeat from one turn to the next ("0", "1", ...), and a weak model's may repeat within one. OpenAI's style
// ("call_" and 24 alphanumerics) unless the model's chat template takes back only another shape: Mistral's templates
// raise unless every id in the history is 9 alphanumerics, so the ids a conversation gets must be those.
import { randomBytes } from "node:crypto";

/** Makes the id of a call. */
export type CallIds = () => string;

function alphanumerics(length: number): string {
  let out = "";
  while (out.length < length) out += randomBytes(length).toString("base64url").replace(/[-_]/g, "");
  return out.slice(0, length);
}

/** OpenAI's style of call id. */
function openAiCallId(): string {
  return `call_${alphanumerics(24)}`;
}

/**
 * The call ids of a chat format. `rendersId(id)`: whether its template takes a history holding a call with this id;
 * one that refuses OpenAI's ids but takes 9 alphanumerics gets 9 alphanumerics.
 */
export function callIdsFor(rendersId: (id: string) => boolean): CallIds {
  return rendersId(openAiCallId()) || !rendersId(alphanumerics(9)) ? openAiCallId : () => alphanumerics(9);
}
