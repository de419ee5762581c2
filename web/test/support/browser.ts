/** Debian's Chromium driven by playwright-core (never a downloaded browser), screenshots and axe. */
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = path.join(__dirname, "..", "screenshots");

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run \`node scripts/ensure-services.mjs --chromium\` (as root).`);
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** Runs axe-core in the page; returns the serious and critical violations, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/**
 * The first load of a page: every script it loads (gzipped here at the default level, as Next
 * serves them), and the time from navigation to `ready` being visible.
 */
export async function measureFirstLoad(
  page: Page,
  url: string,
  ready: string,
): Promise<{ scripts: number; jsGzipBytes: number; readyMs: number; loadEventMs: number }> {
  const scripts = new Set<string>();
  page.on("response", (response) => {
    if (response.request().resourceType() === "script") scripts.add(response.url());
  });
  const started = Date.now();
  await page.goto(url);
  await page.locator(ready).first().waitFor();
  const readyMs = Date.now() - started;
  await page.waitForLoadState("load");
  const loadEventMs = await page.evaluate(() => {
    const [nav] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
    return nav ? Math.round(nav.loadEventEnd - nav.startTime) : -1;
  });
  let jsGzipBytes = 0;
  for (const script of scripts) {
    const body = Buffer.from(await (await fetch(script)).arrayBuffer());
    jsGzipBytes += gzipSync(body).length;
  }
  return { scripts: scripts.size, jsGzipBytes, readyMs, loadEventMs };
}

/**
 * Opens the dashboard's sign-in link (`/#token=…`, as `npm start` prints) and waits until the page
 * kept the token: a `goto` to another page before that would find the tab signed out.
 */
export async function signInWithLink(page: Page, web: string, token: string): Promise<void> {
  await page.goto(`${web}/#token=${token}`);
  await page.waitForFunction(() => sessionStorage.getItem("sluice.token") !== null);
}
