import { describe, expect, it } from "vitest";
import { connectErrorInfo, isAuthRefusal } from "./socket";

function refusal(message: string, data?: unknown): Error & { data?: unknown } {
  const error = new Error(message) as Error & { data?: unknown };
  if (data !== undefined) error.data = data;
  return error;
}

describe("connectErrorInfo", () => {
  it("reads {code, message} from err.data", () => {
    expect(connectErrorInfo(refusal("expired_token", { code: "expired_token", message: "Token expired" }))).toEqual({
      code: "expired_token",
      message: "Token expired",
    });
  });

  it("reads a code given as the message", () => {
    expect(connectErrorInfo(refusal("invalid_token")).code).toBe("invalid_token");
    expect(connectErrorInfo(refusal("invalid_token", "bad signature"))).toEqual({
      code: "invalid_token",
      message: "bad signature",
    });
  });

  it("reads a JSON message", () => {
    expect(connectErrorInfo(refusal('{"code":"forbidden","message":"Not yours"}'))).toEqual({
      code: "forbidden",
      message: "Not yours",
    });
  });

  it("reads python-socketio's str(dict) when a single dict was raised", () => {
    expect(connectErrorInfo(refusal("{'code': 'expired_token', 'message': 'The token has expired.'}"))).toEqual({
      code: "expired_token",
      message: "The token has expired.",
    });
  });

  it("reads a code given as data after a message", () => {
    expect(connectErrorInfo(refusal("Token expired", "expired_token")).code).toBe("expired_token");
    expect(connectErrorInfo(refusal("Token expired", ["expired_token"])).code).toBe("expired_token");
  });

  it("treats anything else as a connection failure, not a refusal", () => {
    const info = connectErrorInfo(refusal("websocket error"));
    expect(info.code).toBe("connect_failed");
    expect(isAuthRefusal(info)).toBe(false);
    expect(isAuthRefusal({ code: "missing_token", message: "" })).toBe(true);
  });
});
