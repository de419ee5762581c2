import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface AdminToken {
  token: string;
  /** True when this start generated the token (and it should be printed once). */
  generated: boolean;
  /** Where a generated token is kept. */
  file: string | null;
}

/**
 * The admin token: SLUICE_ADMIN_TOKEN when set; otherwise the one kept in the data directory,
 * generated (and reported as new) on the first start.
 */
export function resolveAdminToken(configured: string | undefined, dataDir: string): AdminToken {
  if (configured) return { token: configured, generated: false, file: null };
  const file = path.join(dataDir, "admin-token");
  try {
    const token = fs.readFileSync(file, "utf8").trim();
    if (token.length >= 16) return { token, generated: false, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const token = `slc_${crypto.randomBytes(32).toString("base64url")}`;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true, file };
}
