/**
 * The dashboard's artifact download relay (src/app/api/artifacts/…/route.ts) and the address it
 * uses: SLUICE_INTERNAL_ENDPOINT when set (a container network, where the browser's address is not
 * the server's), else SLUICE_ENDPOINT. A real HTTP server stands in for Sluice's.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { GET } from "../src/app/api/artifacts/[executionId]/[name]/route";
import { readConfig } from "../src/config";

describe("readConfig", () => {
  it("takes the internal address from SLUICE_INTERNAL_ENDPOINT, else the browser's", () => {
    expect(readConfig({ SLUICE_ENDPOINT: "http://localhost:4000/graphql" } as NodeJS.ProcessEnv)).toEqual({
      endpoint: "http://localhost:4000/graphql",
      internalEndpoint: "http://localhost:4000/graphql",
    });
    expect(
      readConfig({
        SLUICE_ENDPOINT: "http://localhost:4000/graphql",
        SLUICE_INTERNAL_ENDPOINT: "http://server:4000/graphql",
      } as NodeJS.ProcessEnv).internalEndpoint,
    ).toBe("http://server:4000/graphql");
  });

  it("names the variable that is not an http(s) URL", () => {
    expect(() => readConfig({ SLUICE_INTERNAL_ENDPOINT: "server:4000" } as NodeJS.ProcessEnv)).toThrow(
      /^SLUICE_INTERNAL_ENDPOINT must be an http\(s\) URL/,
    );
    expect(() => readConfig({ SLUICE_INTERNAL_ENDPOINT: "not a url" } as NodeJS.ProcessEnv)).toThrow(
      /^SLUICE_INTERNAL_ENDPOINT is not a URL/,
    );
  });
});

describe("the artifact relay", () => {
  let server: http.Server;
  const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];
  const saved = { ...process.env };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      res.writeHead(200, {
        "content-type": "application/gzip",
        "content-disposition": 'attachment; filename="Out.tar.gz"',
        "x-checksum-sha256": "abc",
        "x-other": "not relayed",
      });
      res.end("bytes");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    process.env = saved;
    await new Promise((resolve) => server.close(resolve));
  });

  it("asks the server at its internal address with the caller's token, and relays the answer", async () => {
    const { port } = server.address() as AddressInfo;
    // The browser's address is not reachable from here, as in a container network.
    process.env.SLUICE_ENDPOINT = "http://browser-only.invalid:4000/graphql";
    process.env.SLUICE_INTERNAL_ENDPOINT = `http://127.0.0.1:${port}/graphql`;
    const response = await GET(
      new Request("http://dashboard/api/artifacts/e1/Out%20put", {
        headers: { authorization: "Bearer t0k" },
      }),
      { params: Promise.resolve({ executionId: "e1", name: "Out put" }) },
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("bytes");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="Out.tar.gz"');
    expect(response.headers.get("x-checksum-sha256")).toBe("abc");
    expect(response.headers.get("x-other")).toBeNull();
    expect(seen).toEqual([{ url: "/artifacts/e1/Out%20put", authorization: "Bearer t0k" }]);
  });
});
