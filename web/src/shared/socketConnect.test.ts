import { beforeEach, describe, expect, it, vi } from "vitest";

const io = vi.fn((..._args: unknown[]) => ({}));
vi.mock("socket.io-client", () => ({ io: (...args: unknown[]) => io(...args) }));

const { connect } = await import("./socket");

describe("connect", () => {
  beforeEach(() => io.mockClear());

  it("opens the namespace on this origin, websocket only, reconnecting by itself (the console)", () => {
    connect("/observer", "tok");
    expect(io).toHaveBeenCalledWith("/observer", {
      transports: ["websocket"],
      auth: { token: "tok" },
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      forceNew: false,
    });
  });

  it("opens another node's origin with its own manager when the caller reconnects itself", () => {
    connect("/candidate", "tok", {
      origin: "https://pod-2.example.com",
      path: "/socket.io",
      reconnection: false,
      timeout: 8_000,
    });
    expect(io).toHaveBeenCalledWith("https://pod-2.example.com/candidate", {
      transports: ["websocket"],
      auth: { token: "tok" },
      reconnection: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      forceNew: true,
      path: "/socket.io",
      timeout: 8_000,
    });
  });

  it("keeps the relative namespace for the page's own origin", () => {
    connect("/candidate", "tok", { origin: null, path: "/socket.io", reconnection: false });
    expect(io.mock.calls[0]?.[0]).toBe("/candidate");
  });
});
