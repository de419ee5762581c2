/**
 * A small real HTTP server standing in for the Sluice GraphQL API: it records every request and
 * answers with canned responses, in order.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: { query: string; variables: Record<string, unknown> };
}

export interface CannedResponse {
  status?: number;
  /** Sent as JSON unless it is a string. */
  body: unknown;
}

export interface FakeGraphQLServer {
  endpoint: string;
  requests: RecordedRequest[];
  /** Queues responses; each request takes the next one (500 when none is left). */
  respond(...responses: CannedResponse[]): void;
  /** Queues `{ data }` responses. */
  respondData(...data: unknown[]): void;
  close(): Promise<void>;
}

export async function startFakeServer(): Promise<FakeGraphQLServer> {
  const requests: RecordedRequest[] = [];
  const queue: CannedResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: text ? (JSON.parse(text) as RecordedRequest["body"]) : { query: "", variables: {} },
      });
      const next = queue.shift() ?? { status: 500, body: "no canned response left" };
      const isText = typeof next.body === "string";
      res.writeHead(next.status ?? 200, { "content-type": isText ? "text/plain" : "application/json" });
      res.end(isText ? (next.body as string) : JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/graphql`,
    requests,
    respond: (...responses) => queue.push(...responses),
    respondData: (...data) => queue.push(...data.map((d) => ({ body: { data: d } }))),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** An endpoint on a port nothing listens on (bound, then released). */
export async function unreachableEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}
