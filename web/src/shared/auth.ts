/** Where the staff apps keep their bearer token for this browser tab. */
export const STAFF_TOKEN_KEY = "codesage.staff_token";
/** Where the candidate app keeps its join token for this tab (so a reload keeps working). */
export const CANDIDATE_TOKEN_KEY = "codesage.candidate_token";

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/**
 * The token for this app: `?token=` in the URL wins (and is stored, then removed from the
 * address bar so it does not leak through screenshots, history or the Referer header);
 * otherwise the one stored in sessionStorage; otherwise null.
 */
export function takeToken(key: string): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token")?.trim();
  if (fromUrl) {
    storage()?.setItem(key, fromUrl);
    url.searchParams.delete("token");
    window.history.replaceState(window.history.state, "", `${url.pathname}${url.search}${url.hash}`);
    return fromUrl;
  }
  return storage()?.getItem(key) ?? null;
}

export function storeToken(key: string, token: string): void {
  storage()?.setItem(key, token.trim());
}

export function clearToken(key: string): void {
  storage()?.removeItem(key);
}
