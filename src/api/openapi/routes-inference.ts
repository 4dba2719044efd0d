// The inference routes: OpenAI's chat, completions, embeddings, models and Responses API, vLLM's render and tokenizer
// routes, and Anthropic's Messages API, each with the schema its handler parses.
import { CountTokensRequest, MessagesRequest } from "../anthropic/schemas.js";
import { ListQuery as InputItemsQuery } from "../openai/responses/routes.js";
import { ResponseCreateRequest } from "../openai/responses/schemas.js";
import {
  ChatCompletionRequest,
  CompletionRequest,
  DetokenizeRequest,
  EmbeddingRequest,
  TokenizeRequest,
} from "../openai/schemas.js";
import { ANSWERS, type ApiRoute } from "./route-table.js";

const openai = (route: Omit<ApiRoute, "tag" | "access">): ApiRoute => ({ tag: "OpenAI", access: "api-key", ...route });

export const INFERENCE_ROUTES: readonly ApiRoute[] = [
  openai({
    method: "post",
    path: "/v1/chat/completions",
    summary: "A chat completion through the model's chat template; server-sent chunks when stream is true",
    body: { name: "ChatCompletionRequest", schema: ChatCompletionRequest },
    response: ANSWERS.sse("a chat.completion object, or chat.completion.chunk events ending with [DONE]"),
  }),
  openai({
    method: "post",
    path: "/v1/completions",
    summary: "A text completion of a prompt (text, token ids, or an array of either)",
    body: { name: "CompletionRequest", schema: CompletionRequest },
    response: ANSWERS.sse("a text_completion object, or its chunks as server-sent events ending with [DONE]"),
  }),
  openai({
    method: "post",
    path: "/v1/chat/completions/render",
    summary: "vLLM's render: the prompt token ids and sampling parameters a chat request would run with",
    body: { name: "ChatCompletionRequest", schema: ChatCompletionRequest },
    response: ANSWERS.json("vLLM's GenerateRequest: request_id, token_ids, sampling_params, model"),
  }),
  openai({
    method: "post",
    path: "/v1/completions/render",
    summary: "vLLM's render for completions: one GenerateRequest per prompt",
    body: { name: "CompletionRequest", schema: CompletionRequest },
    response: ANSWERS.json("an array of vLLM's GenerateRequest, one per prompt"),
  }),
  openai({
    method: "post",
    path: "/v1/embeddings",
    summary: "Mean-pooled, L2-normalized embeddings from the GGUF or an ONNX text model",
    body: { name: "EmbeddingRequest", schema: EmbeddingRequest },
    response: ANSWERS.json("a list of embedding objects (floats, or base64 of little-endian float32)"),
  }),
  openai({
    method: "get",
    path: "/v1/models",
    summary: "The served models, their aliases and LoRA adapters, and the text models of the repository",
    response: ANSWERS.json("a list of model objects"),
  }),
  openai({
    method: "get",
    path: "/v1/models/{id}",
    summary: "One served model or adapter",
    response: ANSWERS.json("a model object"),
  }),
  openai({
    method: "post",
    path: "/v1/responses",
    summary: "OpenAI's Responses API: a response, streamed as typed events, or queued with background: true",
    body: { name: "ResponseCreateRequest", schema: ResponseCreateRequest },
    response: ANSWERS.sse("a response object, or response.* events"),
  }),
  openai({
    method: "get",
    path: "/v1/responses/{id}",
    summary: "A stored response",
    response: ANSWERS.json("a response object"),
  }),
  openai({
    method: "delete",
    path: "/v1/responses/{id}",
    summary: "Deletes a stored response (cancelling it when it is a background one still running)",
    response: ANSWERS.json("{id, object: response, deleted: true}"),
  }),
  openai({
    method: "post",
    path: "/v1/responses/{id}/cancel",
    summary: "Cancels a background response",
    response: ANSWERS.json("the response object, cancelled"),
  }),
  openai({
    method: "get",
    path: "/v1/responses/{id}/input_items",
    summary: "The input items of a stored response, paginated",
    query: InputItemsQuery,
    response: ANSWERS.json("a list of input items with first_id, last_id and has_more"),
  }),
  openai({
    method: "post",
    path: "/tokenize",
    summary: "vLLM's tokenizer route, for a prompt or a chat",
    body: { name: "TokenizeRequest", schema: TokenizeRequest },
    response: ANSWERS.json("{tokens, count, max_model_len}"),
  }),
  openai({
    method: "post",
    path: "/detokenize",
    summary: "vLLM's detokenizer route",
    body: { name: "DetokenizeRequest", schema: DetokenizeRequest },
    response: ANSWERS.json("{prompt}"),
  }),
  {
    method: "post",
    path: "/v1/messages",
    summary: "Anthropic's Messages API over the chat path; Anthropic's stream events when stream is true",
    tag: "Anthropic",
    access: "api-key",
    body: { name: "MessagesRequest", schema: MessagesRequest },
    response: ANSWERS.sse("a message object, or message_start ... message_stop events"),
  },
  {
    method: "post",
    path: "/v1/messages/count_tokens",
    summary: "Anthropic's token count of a request's rendered prompt",
    tag: "Anthropic",
    access: "api-key",
    body: { name: "CountTokensRequest", schema: CountTokensRequest },
    response: ANSWERS.json("{input_tokens}"),
  },
];
