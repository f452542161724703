import { useId, useState, type FormEvent } from "react";

interface Props {
  appName: string;
  /** Why a token is asked for (e.g. the last one was refused). */
  reason: string | null;
  onToken: (token: string) => void;
}

/** Asks a staff member for an access token when there is none or the server refused it. */
export function TokenGate({ appName, reason, onToken }: Props) {
  const [value, setValue] = useState("");
  const inputId = useId();
  const helpId = useId();
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const token = value.trim();
    if (token) onToken(token);
  };
  return (
    <main id="main" className="narrow">
      <h1>{appName}: sign in</h1>
      {reason ? (
        <p className="alert error" role="alert">
          {reason}
        </p>
      ) : null}
      <p>
        This page needs a staff access token. Open it with a link that ends in{" "}
        <code>?token=…</code>, or paste a token below. Development tokens are printed by{" "}
        <code>codesage serve</code>, and <code>codesage token --role interviewer</code> mints one.
      </p>
      <form onSubmit={submit} className="stack">
        <label htmlFor={inputId}>Access token</label>
        <input
          id={inputId}
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={helpId}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          data-testid="token-input"
        />
        <p id={helpId} className="hint">
          The token is kept only in this browser tab and forgotten when the tab closes.
        </p>
        <button type="submit" disabled={!value.trim()} data-testid="token-submit">
          Continue
        </button>
      </form>
    </main>
  );
}
