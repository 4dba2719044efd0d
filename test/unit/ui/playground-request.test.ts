// The playground's form as a chat completion request and a curl command, and the ring the charts keep points in.
import { describe, expect, it } from "vitest";
import { Ring } from "../../../src/ui/lib/ring.js";
import { chatRequest, curlCommand, DEFAULT_SETTINGS } from "../../../src/ui/playground/request.js";

describe("chatRequest", () => {
  const turns = [{ role: "user" as const, content: "hi" }];

  it("sends what is filled and leaves out what is empty", () => {
    expect(chatRequest({ ...DEFAULT_SETTINGS, model: "m", topP: "", maxTokens: "16" }, turns)).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.8,
      max_tokens: 16,
    });
  });

  it("adds the system prompt, stops, a JSON schema, tools and logprobs", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const tool = { type: "function", function: { name: "f", parameters: { type: "object" } } };
    const body = chatRequest(
      {
        ...DEFAULT_SETTINGS,
        model: "m",
        system: "be brief",
        seed: "7",
        stop: "END\n\n###",
        jsonSchema: JSON.stringify(schema),
        tools: JSON.stringify(tool),
        logprobs: true,
        topLogprobs: "2",
      },
      turns,
    );
    expect(body).toMatchObject({
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hi" },
      ],
      seed: 7,
      stop: ["END", "###"],
      response_format: { type: "json_schema", json_schema: { name: "reply", schema } },
      tools: [tool],
      logprobs: true,
      top_logprobs: 2,
    });
    const named = { name: "person", schema, strict: true };
    expect(chatRequest({ ...DEFAULT_SETTINGS, jsonSchema: JSON.stringify(named) }, turns).response_format).toEqual({
      type: "json_schema",
      json_schema: named,
    });
  });

  it("names the field it cannot read", () => {
    expect(() => chatRequest({ ...DEFAULT_SETTINGS, maxTokens: "1.5" }, turns)).toThrow(
      expect.objectContaining({ field: "maxTokens", message: "Max tokens must be an integer, got '1.5'" }),
    );
    expect(() => chatRequest({ ...DEFAULT_SETTINGS, tools: "[{" }, turns)).toThrow(
      expect.objectContaining({
        field: "tools",
        message: expect.stringMatching(/^The tool definitions is not valid JSON/),
      }),
    );
  });
});

describe("curlCommand", () => {
  it("quotes the body for a POSIX shell and keeps the key in an environment variable", () => {
    expect(curlCommand("http://h:1", { content: "it's" }, true)).toBe(
      [
        "curl -N http://h:1/v1/chat/completions",
        "-H 'content-type: application/json'",
        `-H "authorization: Bearer $LOOM_API_KEY"`,
        `-d '{"content":"it'\\''s"}'`,
      ].join(" \\\n  "),
    );
  });
});

describe("Ring", () => {
  it("keeps the newest items up to its capacity, oldest first", () => {
    const ring = new Ring<number>(3);
    expect(ring.last()).toBeUndefined();
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.size).toBe(3);
    expect(ring.pushed).toBe(7);
    expect(ring.map((x) => x * 10)).toEqual([50, 60, 70]);
    expect(ring.last()).toBe(7);
    expect(() => new Ring(0)).toThrow("capacity must be a positive integer, got 0");
  });
});
