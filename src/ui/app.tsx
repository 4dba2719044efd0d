// The app shell: header (pages, theme, key), the API key prompt, and the page of the current hash route.
import { useEffect, useState } from "preact/hooks";
import { Dashboard } from "./dashboard/dashboard.js";
import { KeyDialog } from "./key-dialog.js";
import { apiKey, getJson, HttpError, onUnauthorized } from "./lib/api.js";
import { useRoute } from "./lib/route.js";
import { useTheme } from "./lib/theme.js";
import { Playground } from "./playground/playground.js";

interface Prompt {
  readonly refusal: string | null;
}

export function App() {
  const { choice, theme, next } = useTheme();
  const route = useRoute();
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  // Bumped when a key is entered: pages remount and fetch again with it.
  const [session, setSession] = useState(0);
  const [capabilities, setCapabilities] = useState<readonly string[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => onUnauthorized((message) => setPrompt({ refusal: apiKey.get() === null ? null : message })), []);
  // A new session asks again, with the new key.
  useEffect(() => {
    getJson<{ data: string[] }>("/loom/v1/capabilities").then(
      (answer) => {
        setCapabilities(answer.data);
        setFailure(null);
      },
      (error: Error) => {
        if (!(error instanceof HttpError && error.status === 401)) setFailure(error.message);
      },
    );
  }, [session]);

  const useKey = (key: string) => {
    apiKey.set(key);
    setPrompt(null);
    setSession((s) => s + 1);
  };
  const forgetKey = () => {
    apiKey.clear();
    setCapabilities(null);
    setSession((s) => s + 1);
  };
  const intervalMs = Number(route.params.get("interval_ms") ?? 1000);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          Loom
        </a>
        <nav aria-label="Pages">
          <a href="#/" aria-current={route.page === "dashboard" ? "page" : undefined}>
            Dashboard
          </a>
          <a href="#/playground" aria-current={route.page === "playground" ? "page" : undefined}>
            Playground
          </a>
        </nav>
        <div class="tools">
          <button type="button" onClick={next} title="Switch between system, light and dark">
            Theme: {choice}
          </button>
          {apiKey.get() !== null && (
            <button type="button" onClick={forgetKey}>
              Forget key
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1} key={session}>
        {failure !== null && (
          <p role="alert" class="error">
            Cannot reach the server: {failure}
          </p>
        )}
        {prompt === null &&
          capabilities !== null &&
          (route.page === "playground" ? (
            <Playground />
          ) : (
            <Dashboard
              capabilities={capabilities}
              intervalMs={Number.isFinite(intervalMs) ? intervalMs : 1000}
              theme={theme}
            />
          ))}
      </main>
      {prompt !== null && <KeyDialog refusal={prompt.refusal} onSubmit={useKey} />}
    </>
  );
}
