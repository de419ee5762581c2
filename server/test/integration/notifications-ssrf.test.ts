/**
 * Server-side request forgery: by default a notification target may not point at this host, the
 * cloud metadata service or a private network. Refused when saved (an address literal or a local
 * name, at its field, nothing stored) and again when sent (the addresses the name resolves to, so
 * a name that resolves to 127.0.0.1 is refused too). A real HTTPS receiver on loopback shows that
 * nothing reaches it; SLUICE_NOTIFY_ALLOW_PRIVATE=true lets the same request through.
 */
import { HttpTransport } from "../../src/notifications/transports";
import { selfSignedCertificate, startHttpsReceiver } from "../support/receivers";
import { startTestServer, type TestServer } from "../support/server";

jest.setTimeout(60_000);

let cert: ReturnType<typeof selfSignedCertificate>;
let web: Awaited<ReturnType<typeof startHttpsReceiver>>;
let t: TestServer;

beforeAll(async () => {
  cert = selfSignedCertificate();
  web = await startHttpsReceiver(cert);
  t = await startTestServer({ env: { SLUICE_NOTIFY_CA_FILE: cert.certFile } });
});
afterAll(async () => {
  await t?.stop();
  await web?.close();
  cert?.cleanup();
});

it("refuses a target on a loopback, link-local or private address at its field, and stores nothing", async () => {
  for (const url of [
    web.url("/hook"),
    "https://localhost/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.8/hook",
    "https://[::1]:8443/hook",
  ]) {
    const refused = await t.gql(
      `mutation ($t: NotificationTargetInput!) { createNotificationTarget(target: $t) { id } }`,
      { t: { name: "internal", kind: "WEBHOOK", url } },
    );
    expect(refused.data).toBeNull();
    const error = refused.errors![0]!;
    expect(error.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      validationErrors: [
        { path: "target.url", message: expect.stringMatching(/^must point to a public host: /) },
      ],
    });
  }
  const listed = await t.gql(`{ notificationTargets { name } }`);
  expect(listed.data!.notificationTargets).toEqual([]);
  expect(web.received).toEqual([]);
});

it("refuses at send time a name that resolves to a loopback address, and lets it through when allowed", async () => {
  const port = new URL(web.url("/")).port;
  const strict = new HttpTransport(cert.certFile);
  const relaxed = new HttpTransport(cert.certFile, true);
  try {
    // `localhost` resolves through DNS (the request's own lookup), not caught as a literal.
    const byName = await strict.post(`https://localhost:${port}/by-name`, "{}", {}, 5000);
    expect(byName.ok).toBe(false);
    expect(byName.error).toMatch(/resolves to a loopback address \((127\.0\.0\.1|::1)\): refused/);
    const literal = await strict.post(`https://127.0.0.1:${port}/literal`, "{}", {}, 5000);
    expect(literal).toMatchObject({ ok: false, statusCode: null });
    expect(literal.error).toContain("127.0.0.1 is a loopback address: refused");
    expect(web.received).toEqual([]);

    const allowed = await relaxed.post(`https://localhost:${port}/allowed`, "{}", {}, 5000);
    expect(allowed).toEqual({ ok: true, statusCode: 200, error: null });
    expect(web.received.map((r) => r.path)).toEqual(["/allowed"]);
  } finally {
    strict.close();
    relaxed.close();
  }
});
