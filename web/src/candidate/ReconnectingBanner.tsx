/** After this many failed attempts (about 10 s) the banner suggests checking the connection. */
const SLOW_RECONNECT_ATTEMPTS = 5;

/**
 * A calm notice, not an error: a lost connection (or a server that went away) is found again
 * by itself, and the question and the typed draft stay where they are meanwhile.
 */
export function ReconnectingBanner({ attempts, onRetry }: { attempts: number; onRetry: () => void }) {
  const slow = attempts >= SLOW_RECONNECT_ATTEMPTS;
  return (
    <div className="banner" role="status" data-testid="reconnecting">
      Reconnecting… Your answers and your draft are kept.
      {slow ? (
        <>
          {" "}
          Still trying; please check your internet connection.{" "}
          <button type="button" onClick={onRetry}>
            Try now
          </button>
        </>
      ) : null}
    </div>
  );
}
