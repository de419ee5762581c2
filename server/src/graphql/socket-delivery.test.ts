import { socketDelivery, TOO_SLOW_CLOSE_CODE } from "./socket-delivery";

/** The few fields of a ws WebSocket the delivery reads, set by the test. */
function socket(bufferedAmount = 0) {
  return {
    OPEN: 1 as const,
    readyState: 1 as 0 | 1 | 2 | 3,
    bufferedAmount,
    sent: [] as string[],
    closed: null as null | { code?: number; reason?: string | Buffer },
    send(message: string) {
      this.sent.push(message);
    },
    close(code?: number, reason?: string | Buffer) {
      this.closed = { code, reason };
      this.readyState = 2;
    },
  };
}

const logger = () => ({
  warnings: [] as unknown[],
  warn(...args: unknown[]) {
    this.warnings.push(args);
  },
});

describe("socketDelivery", () => {
  it("writes each message to an open socket", () => {
    const s = socket();
    const d = socketDelivery(s as never, "7", logger() as never);
    d.send("one");
    d.send("two");
    expect(d.id).toBe("7");
    expect(s.sent).toEqual(["one", "two"]);
  });

  it("writes nothing to a socket that is closing", () => {
    const s = socket();
    s.readyState = 2;
    socketDelivery(s as never, "7", logger() as never).send("one");
    expect(s.sent).toEqual([]);
  });

  it("closes a connection that left too much unread instead of queueing more, and says so", () => {
    const s = socket(2048);
    const log = logger();
    const d = socketDelivery(s as never, "7", log as never, 1024);
    d.send("one");
    expect(s.sent).toEqual([]);
    expect(s.closed).toEqual({ code: TOO_SLOW_CLOSE_CODE, reason: "Too many unread messages" });
    expect(log.warnings).toHaveLength(1);
    d.send("two");
    expect(s.sent).toEqual([]);
  });
});
