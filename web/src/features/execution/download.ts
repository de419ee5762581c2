/**
 * Downloads an artifact through the dashboard's own /api/artifacts route (same origin; it relays
 * to the server's /artifacts route, which needs the Authorization header a plain link cannot send).
 * Resolves with an error message, or null once the browser has the file.
 */
export async function downloadArtifact(
  token: string,
  executionId: string,
  name: string,
): Promise<string | null> {
  const response = await fetch(
    `/api/artifacts/${encodeURIComponent(executionId)}/${encodeURIComponent(name)}`,
    { headers: { authorization: `Bearer ${token}` } },
  ).catch(() => null);
  if (!response) return "The dashboard does not answer.";
  if (!response.ok) {
    // The server answers `{ errors: [{ message }] }`; the dashboard's relay `{ error }` when it cannot reach it.
    const body = (await response.json().catch(() => null)) as {
      error?: string;
      errors?: Array<{ message?: string }>;
    } | null;
    return body?.errors?.[0]?.message ?? body?.error ?? `The download failed (${response.status}).`;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `${name}.tar.gz`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return null;
}
