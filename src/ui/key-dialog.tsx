// The API key prompt: a modal dialog shown when the server answers 401. The key is kept in sessionStorage, so it is
// asked once per tab and forgotten when the tab closes.
import { useEffect, useRef, useState } from "preact/hooks";

interface KeyDialogProps {
  /** The server's reason when a key was sent and refused; null when none was sent yet. */
  readonly refusal: string | null;
  readonly onSubmit: (key: string) => void;
}

export function KeyDialog({ refusal, onSubmit }: KeyDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [key, setKey] = useState("");
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} class="key-dialog" aria-labelledby="key-title" onCancel={(e) => e.preventDefault()}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim() !== "") onSubmit(key.trim());
        }}
      >
        <h2 id="key-title">API key</h2>
        <p>This server requires an API key: one of its --api-key keys, or an --admin-key one to cancel requests.</p>
        {refusal !== null && (
          <p role="alert" class="error">
            The server refused the key: {refusal}
          </p>
        )}
        <label for="api-key">Key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          required
          autofocus
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <p class="hint">Kept in this tab's session storage and sent as a bearer token.</p>
        <button type="submit" class="primary">
          Use key
        </button>
      </form>
    </dialog>
  );
}
