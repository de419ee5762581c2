import net from "node:net";
import { startTestServer, type TestServer } from "../support/server";

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("health endpoints", () => {
  let t: TestServer;
  afterEach(async () => {
    await t?.stop();
  });

  it("/healthz answers while alive; /readyz once the database and NATS answer", async () => {
    t = await startTestServer();
    const base = t.url.replace(/\/graphql$/, "");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    let ready = await fetch(`${base}/readyz`);
    for (let i = 0; i < 50 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await fetch(`${base}/readyz`);
    }
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", database: { ok: true }, nats: { ok: true } });
    expect((await fetch(`${base}/healthz`)).headers.get("x-request-id")).toMatch(/.+/);
  });

  it("/readyz answers 503 naming NATS when NATS is unreachable", async () => {
    t = await startTestServer({ env: { NATS_URL: `nats://127.0.0.1:${await closedPort()}` } });
    const base = t.url.replace(/\/graphql$/, "");
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: "unavailable",
      database: { ok: true },
      nats: { ok: false },
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
