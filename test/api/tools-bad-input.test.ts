// Bad tool and structured-output input on the three chat routes: each a 400 in the route's own error shape naming the
// field (OpenAI's `param`; Anthropic's message, its shape having no field for it), and the server keeps serving. A
// named choice of an unknown tool, a schema that does not compile, a schema no grammar can honour, a tool result
// answering no call, malformed content, and tools for a chat template that cannot render calls.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyModel } from "../helpers/models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { FORECAST_SCHEMA, startFamilyServer } from "../helpers/tool-calls.js";

let server: TestServer;
let noToolsServer: TestServer;
beforeAll(async () => {
  server = await startFamilyServer("granite-4.0");
  noToolsServer = await startTestServer({ model: tinyModel() });
});
afterAll(async () => {
  await server?.close();
  await noToolsServer?.close();
});

type Route = "chat" | "responses" | "messages";
const PATHS: Record<Route, string> = {
  chat: "/v1/chat/completions",
  responses: "/v1/responses",
  messages: "/v1/messages",
};

async function post(target: TestServer, route: Route, body: object): Promise<{ status: number; body: any }> {
  const response = await fetch(`${target.url}${PATHS[route]}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: target.model, ...body }),
  });
  return { status: response.status, body: await response.json() };
}

/** The field a 400 names, in the route's own shape: OpenAI's param, or the start of Anthropic's message. */
function expectRefusal(route: Route, answer: { status: number; body: any }, param: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(400);
  if (route === "messages") {
    expect(answer.body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(answer.body.error.message.startsWith(`${param}`), answer.body.error.message).toBe(true);
  } else {
    expect(answer.body.error).toMatchObject({ type: "invalid_request_error", param });
  }
}

const user = "Forecast for Oslo?";
const BAD_REF = { type: "object", properties: { city: { $ref: "#/definitions/missing" } } };
const UNHONOURED = { type: "object", properties: { temperature: { type: "number", minimum: -40 } } };

// Per route: the request fields for a chat with these tools, a tool choice naming `name`, a response schema, ...
const shapes = {
  chat: {
    base: { messages: [{ role: "user", content: user }], max_tokens: 4 },
    tools: (schema: object) => ({
      tools: [{ type: "function", function: { name: "get_weather", parameters: schema } }],
    }),
    named: (name: string) => ({ tool_choice: { type: "function", function: { name } } }),
    format: (schema: object) => ({ response_format: { type: "json_schema", json_schema: { name: "out", schema } } }),
    formatParam: "response_format",
    orphan: {
      messages: [
        { role: "user", content: user },
        { role: "tool", tool_call_id: "call_unknown", content: "Sunny" },
      ],
    },
    orphanParam: "messages.1.tool_call_id",
    malformed: { messages: [{ role: "user", content: [{ type: "text" }] }] },
    malformedParam: "messages.0.content",
  },
  responses: {
    base: { input: user, max_output_tokens: 4 },
    tools: (schema: object) => ({ tools: [{ type: "function", name: "get_weather", parameters: schema }] }),
    named: (name: string) => ({ tool_choice: { type: "function", name } }),
    format: (schema: object) => ({ text: { format: { type: "json_schema", name: "out", schema } } }),
    formatParam: "text.format",
    orphan: { input: [{ type: "function_call_output", call_id: "call_unknown", output: "Sunny" }] },
    orphanParam: "input.0.call_id",
    malformed: { input: [{ type: "message", role: "user", content: [{ type: "input_image", image_url: "x" }] }] },
    malformedParam: "input.0.content",
  },
  messages: {
    base: { messages: [{ role: "user", content: user }], max_tokens: 4 },
    tools: (schema: object) => ({ tools: [{ name: "get_weather", input_schema: schema }] }),
    named: (name: string) => ({ tool_choice: { type: "tool", name } }),
    format: (schema: object) => ({ output_config: { format: { type: "json_schema", schema } } }),
    formatParam: "output_config.format",
    orphan: {
      messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_unknown", content: "Sunny" }] }],
    },
    orphanParam: "messages.0.content.0.tool_use_id",
    malformed: {
      messages: [{ role: "assistant", content: [{ type: "tool_use", name: "get_weather", input: {} }] }],
    },
    malformedParam: "messages.0.content.0",
  },
} as const;

describe.each(["chat", "responses", "messages"] as const)("bad tool input to %s", (route) => {
  const shape = shapes[route];

  it("refuses each with a 400 naming the field, and keeps serving", async () => {
    const cases: [string, object, string][] = [
      [
        "an unknown tool in a named choice",
        { ...shape.tools(FORECAST_SCHEMA), ...shape.named("send_email") },
        "tool_choice",
      ],
      ["tool parameters that do not compile", shape.tools(BAD_REF), "tools"],
      ["tool parameters no grammar can honour", shape.tools(UNHONOURED), "tools"],
      ["a response schema that does not compile", shape.format(BAD_REF), shape.formatParam],
      ["a response schema no grammar can honour", shape.format(UNHONOURED), shape.formatParam],
      ["a tool result that answers no call", shape.orphan, shape.orphanParam],
      ["malformed content", shape.malformed, shape.malformedParam],
    ];
    for (const [what, fields, param] of cases) {
      const answer = await post(server, route, { ...shape.base, ...fields });
      expect(answer.status, what).toBe(400);
      expectRefusal(route, answer, param);
    }
    expect((await post(server, route, shape.base)).status).toBe(200);
  });

  it("refuses tools for a chat template that cannot render calls", async () => {
    expectRefusal(route, await post(noToolsServer, route, { ...shape.base, ...shape.tools(FORECAST_SCHEMA) }), "tools");
    expect((await post(noToolsServer, route, shape.base)).status).toBe(200);
  });
});
