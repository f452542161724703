import { useCallback, useState } from "react";
import { clearToken, STAFF_TOKEN_KEY, storeToken, takeToken } from "./auth";

export interface StaffToken {
  token: string | null;
  /** Why the token gate shows (refused token), or null. */
  reason: string | null;
  setToken: (token: string) => void;
  /** Forget the token because the server refused it; the gate shows `reason`. */
  refuse: (reason: string) => void;
}

/** The staff bearer token: from ?token= on first load, then sessionStorage. */
export function useStaffToken(): StaffToken {
  const [token, setTokenState] = useState<string | null>(() => takeToken(STAFF_TOKEN_KEY));
  const [reason, setReason] = useState<string | null>(null);
  const setToken = useCallback((value: string) => {
    storeToken(STAFF_TOKEN_KEY, value);
    setReason(null);
    setTokenState(value.trim());
  }, []);
  const refuse = useCallback((why: string) => {
    clearToken(STAFF_TOKEN_KEY);
    setReason(why);
    setTokenState(null);
  }, []);
  return { token, reason, setToken, refuse };
}
