/**
 * Where `sluice login` keeps its sessions: a JSON file of `{ <endpoint>: { token, expiresAt,
 * principal } }`, readable by its owner only (0600 in a 0700 directory). Its path:
 * SLUICE_CREDENTIALS_FILE, else `$XDG_CONFIG_HOME/sluice/credentials.json`, else
 * `$HOME/.config/sluice/credentials.json`. A token given with `--token` or SLUICE_TOKEN wins over
 * a stored session; an expired session is not sent.
 */
import fs from "node:fs";
import path from "node:path";
import { CliError } from "./errors";

export const CREDENTIALS_FILE_ENV = "SLUICE_CREDENTIALS_FILE";

export interface StoredSession {
  token: string;
  expiresAt: string;
  principal: string;
}

export function credentialsFile(env: Record<string, string | undefined>): string | null {
  if (env[CREDENTIALS_FILE_ENV]) return path.resolve(env[CREDENTIALS_FILE_ENV]!);
  const config = env.XDG_CONFIG_HOME || (env.HOME ? path.join(env.HOME, ".config") : null);
  return config ? path.join(config, "sluice", "credentials.json") : null;
}

/** The same endpoint written two ways (a trailing slash, a default port) is one key. */
export function endpointKey(endpoint: string): string {
  return new URL(endpoint).toString();
}

function readAll(file: string): Record<string, StoredSession> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, StoredSession>)
      : {};
  } catch {
    throw new CliError(`${file} is not JSON: delete it and run sluice login again`);
  }
}

function writeAll(file: string, sessions: Record<string, StoredSession>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(sessions, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

export class CredentialStore {
  constructor(readonly file: string) {}

  /** The session stored for the endpoint, if it has not expired. */
  session(endpoint: string, now = Date.now()): StoredSession | null {
    const stored = readAll(this.file)[endpointKey(endpoint)];
    if (!stored || typeof stored.token !== "string") return null;
    return Date.parse(stored.expiresAt) > now ? stored : null;
  }

  /** The stored entry even when expired (logout forgets it either way). */
  entry(endpoint: string): StoredSession | null {
    return readAll(this.file)[endpointKey(endpoint)] ?? null;
  }

  save(endpoint: string, session: StoredSession): void {
    writeAll(this.file, { ...readAll(this.file), [endpointKey(endpoint)]: session });
  }

  /** Forgets the endpoint's session; false when there was none. */
  remove(endpoint: string): boolean {
    const all = readAll(this.file);
    const key = endpointKey(endpoint);
    if (!(key in all)) return false;
    delete all[key];
    writeAll(this.file, all);
    return true;
  }
}
