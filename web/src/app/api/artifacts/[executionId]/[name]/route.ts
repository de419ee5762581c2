import { readConfig } from "@/config";

export const dynamic = "force-dynamic";

/**
 * Relays GET /artifacts/<executionId>/<name> of the server (the origin of SLUICE_INTERNAL_ENDPOINT,
 * or of SLUICE_ENDPOINT) with the caller's Authorization header: the browser cannot call it across
 * origins (no CORS there).
 */
export async function GET(
  request: Request,
  context: { params: Promise<{ executionId: string; name: string }> },
): Promise<Response> {
  const { executionId, name } = await context.params;
  const origin = new URL(readConfig().internalEndpoint).origin;
  const authorization = request.headers.get("authorization");
  let upstream: Response;
  try {
    upstream = await fetch(
      `${origin}/artifacts/${encodeURIComponent(executionId)}/${encodeURIComponent(name)}`,
      {
        headers: authorization ? { authorization } : {},
        cache: "no-store",
      },
    );
  } catch {
    return Response.json({ error: `The Sluice server at ${origin} does not answer.` }, { status: 502 });
  }
  const headers = new Headers();
  for (const header of [
    "content-type",
    "content-length",
    "content-disposition",
    "x-checksum-sha256",
    "digest",
  ]) {
    const value = upstream.headers.get(header);
    if (value) headers.set(header, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}
