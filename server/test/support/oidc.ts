/**
 * A real OpenID provider for tests (oidc-provider in its own process: support/oidc-provider.mjs),
 * and an HTTP "browser" that signs in through it: it keeps cookies per origin, follows redirects,
 * and submits the provider's login and consent forms.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

export interface TestAccount {
  /** Defaults to the account's key. */
  sub?: string;
  preferred_username?: string;
  name?: string;
  email?: string;
  groups?: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Replaces the accounts (read again at each sign-in). */
  setAccounts(accounts: Record<string, TestAccount>): void;
  stop(): Promise<void>;
}

const SCRIPT = path.join(__dirname, "oidc-provider.mjs");
const started = new Set<ChildProcess>();

export async function startOidcProvider(options: {
  redirectUris: string[];
  accounts: Record<string, TestAccount>;
  clientId?: string;
}): Promise<TestProvider> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-oidc-"));
  const accountsFile = path.join(dir, "accounts.json");
  const setAccounts = (accounts: Record<string, TestAccount>) =>
    fs.writeFileSync(accountsFile, JSON.stringify(accounts));
  setAccounts(options.accounts);
  const clientId = options.clientId ?? "sluice";
  const clientSecret = "test-client-secret-0123456789abcdef";
  const child = spawn(process.execPath, [SCRIPT], {
    env: {
      PATH: process.env.PATH ?? "",
      OIDC_TEST_CONFIG: JSON.stringify({
        clientId,
        clientSecret,
        redirectUris: options.redirectUris,
        accountsFile,
      }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let errors = "";
  child.stderr!.on("data", (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-8000)));
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve((JSON.parse(line) as { issuer: string }).issuer));
    child.once("exit", (code) => reject(new Error(`the OpenID provider exited with ${code}:\n${errors}`)));
  });
  return {
    issuer,
    clientId,
    clientSecret,
    setAccounts,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      started.delete(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Cookies by origin (enough for loopback tests; paths and expiry dates are not needed here). */
export class HttpBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  cookieHeader(url: URL): string {
    return [...(this.jar.get(url.origin) ?? new Map<string, string>())]
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
  }

  cookieNames(origin: string): string[] {
    return [...(this.jar.get(origin)?.keys() ?? [])];
  }

  /** One request, no redirect followed; keeps the cookies it sets. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = { cookie: this.cookieHeader(target) };
    let body: string | undefined;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, { method: init.method ?? "GET", headers, body, redirect: "manual" });
    const cookies = this.jar.get(target.origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const equals = pair!.indexOf("=");
      const name = pair!.slice(0, equals).trim();
      const value = pair!.slice(equals + 1).trim();
      const gone = attributes.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a),
      );
      if (gone || value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(target.origin, cookies);
    return response;
  }
}

export interface SignInOptions {
  /** The account to log in as at the provider's form. */
  login: string;
  /** Where the flow ends: the dashboard's address (not fetched). */
  dashboardUrl: string;
  /** Cancels at the provider's login page instead of logging in. */
  cancel?: boolean;
  /** Sees (and may change) the provider's redirect to the callback before it is followed. */
  onCallback?: (url: URL) => URL | Promise<URL>;
}

const absolute = (location: string, base: string) => new URL(location, base).href;

/**
 * Signs in from `startUrl` (Sluice's /auth/oidc/start) through the provider's pages; resolves with
 * the dashboard URL the flow ends at (its `#token=…` or its sign-in page's `?error=…`).
 */
export async function signInThroughProvider(
  browser: HttpBrowser,
  startUrl: string,
  options: SignInOptions,
): Promise<URL> {
  let url = startUrl;
  let response = await browser.request(url);
  for (let steps = 0; steps < 30; steps++) {
    if (response.status >= 300 && response.status < 400) {
      let next = new URL(absolute(response.headers.get("location")!, url));
      await response.arrayBuffer();
      if (next.href.startsWith(options.dashboardUrl)) return next;
      if (next.pathname === "/auth/oidc/callback" && options.onCallback)
        next = await options.onCallback(next);
      url = next.href;
      response = await browser.request(url);
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${html.slice(0, 500)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no form at ${url}: ${html.slice(0, 500)}`);
    if (prompt === "login" && options.cancel) {
      const abort = /href="([^"]+\/abort)"/.exec(html)?.[1];
      if (!abort) throw new Error(`no cancel link at ${url}`);
      url = absolute(abort, url);
      response = await browser.request(url);
      continue;
    }
    const form: Record<string, string> =
      prompt === "login" ? { prompt, login: options.login, password: "any password" } : { prompt };
    url = absolute(action, url);
    response = await browser.request(url, { method: "POST", form });
  }
  throw new Error("the sign-in did not end within 30 steps");
}
