// Tool-call ids. OpenAI's style ("call_" and 24 alphanumerics) unless the model's chat template takes back only
// another shape: Mistral's templates raise unless every id in the history is 9 alphanumerics, so the ids a
// conversation gets must be those, or its next turn fails.
import { randomBytes } from "node:crypto";

/** The id a call gets: the one the model wrote (Mistral, Command R, Kimi write ids), when it will do, else a new one. */
export type CallIds = (written: string | undefined) => string;

function alphanumerics(length: number): string {
  let out = "";
  while (out.length < length) out += randomBytes(length).toString("base64url").replace(/[-_]/g, "");
  return out.slice(0, length);
}

/** OpenAI's style of call id. */
export function openAiCallId(): string {
  return `call_${alphanumerics(24)}`;
}

const NINE_ALPHANUMERICS = /^[A-Za-z0-9]{9}$/;

/**
 * The call ids of a format. `rendersId(id)`: whether the template takes a history holding a call with this id; a
 * template that refuses OpenAI's ids but takes 9 alphanumerics gets 9 alphanumerics, written ones included.
 */
export function callIdsFor(rendersId: (id: string) => boolean): CallIds {
  if (rendersId(openAiCallId()) || !rendersId(alphanumerics(9))) {
    return (written) => (written !== undefined && written.trim() !== "" ? written : openAiCallId());
  }
  return (written) => (written !== undefined && NINE_ALPHANUMERICS.test(written) ? written : alphanumerics(9));
}
