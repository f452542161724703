import { useEffect, useState } from "react";
import type { Socket } from "socket.io-client";
import { connect, connectErrorInfo, isAuthRefusal } from "../shared/socket";

export type ObserverStatus = "connecting" | "connected" | "reconnecting";

export interface ObserverConnection {
  socket: Socket | null;
  status: ObserverStatus;
}

/** One `/observer` socket per token; an auth refusal calls `onRefused` (the token gate shows). */
export function useObserverConnection(
  token: string,
  onRefused: (message: string) => void,
): ObserverConnection {
  const [socket, setSocket] = useState<Socket | null>(null);
  const [status, setStatus] = useState<ObserverStatus>("connecting");

  useEffect(() => {
    const next = connect("/observer", token);
    setSocket(next);
    setStatus("connecting");
    next.on("connect", () => setStatus("connected"));
    next.on("disconnect", (reason: string) => {
      setStatus("reconnecting");
      // A server-side disconnect turns socket.io's automatic reconnection off: reconnect anyway.
      if (reason === "io server disconnect") next.connect();
    });
    next.on("connect_error", (err: unknown) => {
      const info = connectErrorInfo(err);
      if (isAuthRefusal(info) || !next.active) {
        next.disconnect();
        onRefused(
          info.code === "expired_token"
            ? "Your access token has expired. Paste a new one."
            : `The server refused the access token (${info.code}): ${info.message}`,
        );
        return;
      }
      setStatus("reconnecting");
    });
    return () => {
      next.removeAllListeners();
      next.disconnect();
    };
  }, [token, onRefused]);

  return { socket, status };
}
