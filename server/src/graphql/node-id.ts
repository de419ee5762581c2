/**
 * Global node ids: base64url of `Type:part/part`, each part URI-encoded. Opaque to clients (they
 * only pass them back), stable (made of the object's own keys: a pipeline's name, an execution's
 * id) and unique across types. The parts of each type are in graphql/node.ts.
 */
export function encodeNodeId(type: string, parts: ReadonlyArray<string | number>): string {
  return Buffer.from(`${type}:${parts.map((p) => encodeURIComponent(String(p))).join("/")}`).toString(
    "base64url",
  );
}

/** The type and parts of a global id; null for a string that is not one (never an error). */
export function decodeNodeId(id: string): { type: string; parts: string[] } | null {
  if (typeof id !== "string" || id.length === 0 || id.length > 2000 || !/^[A-Za-z0-9_-]+$/.test(id))
    return null;
  const text = Buffer.from(id, "base64url").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0) return null;
  try {
    const parts = text
      .slice(colon + 1)
      .split("/")
      .map((part) => decodeURIComponent(part));
    // Only the canonical spelling is an id: the same object has exactly one.
    if (encodeNodeId(text.slice(0, colon), parts) !== id) return null;
    return { type: text.slice(0, colon), parts };
  } catch {
    return null;
  }
}
