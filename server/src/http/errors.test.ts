import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import pino from "pino";
import { errorHandler, notFound } from "./errors";

/** A real express app on port 0 with the error handlers last, as app.ts mounts them. */
async function serve(
  setup: (app: express.Express) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = express();
  setup(app);
  app.use(notFound({ "/graphql": ["GET", "POST"] }));
  app.use(errorHandler(pino({ level: "silent" })));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

it("answers body errors, unknown routes, wrong methods, PostgreSQL away and unexpected failures as coded JSON errors", async () => {
  const s = await serve((app) => {
    app.post("/graphql", express.json({ limit: 100 }), (_req, res) => void res.json({ ok: true }));
    app.get("/boom", () => {
      throw new Error("secret detail");
    });
    // What pg throws while PostgreSQL shuts down, and while it is not listening.
    app.get("/database-away", () => {
      throw Object.assign(new Error("the database system is shutting down"), { code: "57P03" });
    });
    app.get("/database-refused", (_req, _res, next) => {
      next(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
    });
  });
  const ask = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(s.url + path, init);
    return { status: response.status, allow: response.headers.get("allow"), body: await response.json() };
  };
  const post = (body: string, type = "application/json") =>
    ask("/graphql", { method: "POST", headers: { "content-type": type }, body });
  try {
    const cases = [
      [await post("{bad"), 400, "BAD_REQUEST", /not valid JSON/],
      [await post(JSON.stringify({ x: "y".repeat(200) })), 413, "PAYLOAD_TOO_LARGE", /limit of 100 bytes/],
      [
        await post("{}", "application/json; charset=latin1"),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        /"latin1" is not supported; send UTF-8/i,
      ],
      [await ask("/nowhere"), 404, "NOT_FOUND", /GET \/nowhere/],
      [await ask("/graphql", { method: "DELETE" }), 405, "METHOD_NOT_ALLOWED", /takes GET or POST/],
      [await ask("/boom"), 500, "INTERNAL_SERVER_ERROR", /^Internal server error\.$/],
      [await ask("/database-away"), 503, "UNAVAILABLE", /cannot reach its database or NATS; try again/],
      [await ask("/database-refused"), 503, "UNAVAILABLE", /cannot reach its database or NATS; try again/],
    ] as const;
    for (const [reply, status, code, message] of cases) {
      expect(reply.status).toBe(status);
      expect(reply.body).toEqual({
        errors: [{ message: expect.stringMatching(message), extensions: { code } }],
      });
    }
    expect(cases[4][0].allow).toBe("GET, POST");
    expect(JSON.stringify(cases[5][0].body)).not.toContain("secret detail");
  } finally {
    await s.close();
  }
});
