// The playground page: a streamed chat with any served model or adapter, the request settings beside it, each
// reply's TTFT, tokens/s and token count, its log-probabilities as a heat map when asked, and the last request as
// a curl command.
import { useEffect, useRef, useState } from "preact/hooks";
import { apiKey, HttpError } from "../lib/api.js";
import { useModels } from "../lib/models.js";
import { LogprobHeatmap } from "./logprobs.js";
import {
  type ChatTurn,
  chatRequest,
  curlCommand,
  DEFAULT_SETTINGS,
  type PlaygroundSettings,
  SettingsError,
} from "./request.js";
import { Settings } from "./settings.js";
import { type Reply, streamReply } from "./stream.js";

interface Turn extends ChatTurn {
  readonly reply?: Reply;
}

function ReplyStats({ reply }: { reply: Reply }) {
  const parts = [
    reply.ttftMs === null ? null : `TTFT ${reply.ttftMs.toFixed(0)} ms`,
    reply.tokensPerSecond === null ? null : `${reply.tokensPerSecond.toFixed(1)} tokens/s`,
    `${reply.numTokens} tokens`,
    reply.finishReason === null ? null : `finish: ${reply.finishReason}`,
  ];
  return <p class="reply-stats">{parts.filter((p) => p !== null).join(" · ")}</p>;
}

export function Playground() {
  const models = useModels();
  const [settings, setSettings] = useState<PlaygroundSettings>(DEFAULT_SETTINGS);
  const [turns, setTurns] = useState<readonly Turn[]>([]);
  const [draft, setDraft] = useState("");
  const [pending, setPending] = useState<Reply | null>(null);
  const [error, setError] = useState<{ text: string; field: string | null } | null>(null);
  const [curl, setCurl] = useState<string | null>(null);
  const running = useRef<AbortController | null>(null);
  const [busy, setBusy] = useState(false);
  const cards = models.data?.data ?? [];
  const model = settings.model !== "" ? settings.model : (cards[0]?.id ?? "");

  useEffect(() => () => running.current?.abort(), []);

  const send = async () => {
    const prompt = draft.trim();
    if (prompt === "" || running.current !== null || model === "") return;
    const history: ChatTurn[] = [
      ...turns.map(({ role, content }) => ({ role, content })),
      { role: "user", content: prompt },
    ];
    let body: Record<string, unknown>;
    try {
      body = chatRequest({ ...settings, model }, history);
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      setError({ text: e.message, field: e.field });
      return;
    }
    setCurl(curlCommand(location.origin, body, apiKey.get() !== null));
    setError(null);
    setTurns([...turns, { role: "user", content: prompt }]);
    setDraft("");
    const controller = new AbortController();
    running.current = controller;
    setBusy(true);
    // Chunks can come faster than frames; the reply on screen follows at most once a frame.
    let latest: Reply | null = null;
    let frame = 0;
    const show = (reply: Reply) => {
      latest = reply;
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          setPending(latest);
        });
    };
    try {
      const reply = await streamReply(body, controller.signal, show);
      setTurns((t) => [...t, { role: "assistant", content: reply.text, reply }]);
    } catch (e) {
      // A refused request leaves no turn behind: the prompt goes back into the box to be fixed and sent again.
      const status = e instanceof HttpError ? `${e.status}${e.code ? ` ${e.code}` : ""}: ` : "";
      setError({ text: `The server refused the request: ${status}${(e as Error).message}`, field: null });
      setTurns((t) => t.slice(0, -1));
      setDraft(prompt);
    } finally {
      cancelAnimationFrame(frame);
      running.current = null;
      setBusy(false);
      setPending(null);
    }
  };

  return (
    <div class="playground">
      <Settings
        settings={{ ...settings, model }}
        models={cards}
        onChange={setSettings}
        invalid={error?.field ?? null}
      />
      <section class="chat" aria-labelledby="chat-title">
        <div class="section-head">
          <h1 id="chat-title">Playground</h1>
        </div>
        <ol class="turns" aria-live="polite">
          {turns.map((turn, i) => (
            <li key={i} class={`turn ${turn.role}`}>
              <span class="who">{turn.role === "user" ? "You" : model}</span>
              <div class="content">{turn.content}</div>
              {turn.reply && <ReplyStats reply={turn.reply} />}
              {turn.reply && turn.reply.logprobs.length > 0 && <LogprobHeatmap tokens={turn.reply.logprobs} />}
            </li>
          ))}
          {busy && (
            <li class="turn assistant pending" aria-busy="true">
              <span class="who">{model}</span>
              <div class="content">{pending?.text ?? ""}</div>
              {pending && <ReplyStats reply={pending} />}
            </li>
          )}
        </ol>
        {error !== null && (
          <p role="alert" class="error">
            {error.text}
          </p>
        )}
        <form
          class="composer"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <label for="pg-prompt" class="visually-hidden">
            Message
          </label>
          <textarea
            id="pg-prompt"
            rows={3}
            placeholder="Message (Enter sends, Shift+Enter starts a new line)"
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                void send();
              }
            }}
          />
          <div class="buttons">
            <button type="submit" class="primary" disabled={busy || model === ""}>
              Send
            </button>
            <button type="button" disabled={!busy} onClick={() => running.current?.abort()}>
              Stop
            </button>
            <button
              type="button"
              disabled={busy || turns.length === 0}
              onClick={() => {
                setTurns([]);
                setError(null);
              }}
            >
              Clear
            </button>
          </div>
        </form>
        {curl !== null && (
          <details class="curl" open>
            <summary>Last request as curl</summary>
            <pre>
              <code>{curl}</code>
            </pre>
            <button type="button" onClick={() => void navigator.clipboard?.writeText(curl)}>
              Copy
            </button>
          </details>
        )}
      </section>
    </div>
  );
}
