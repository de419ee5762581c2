/**
 * schedules (a Sluice addition): at most 10, each a five-field cron expression (minute hour
 * day-of-month month day-of-week: no seconds, nothing firing more than once a minute) and an IANA
 * time zone; no schedule twice.
 */
import { Cron } from "croner";
import type { ValidationContext } from "../context";

export const MAX_SCHEDULES = 10;

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Why a cron expression is not one Sluice runs, or null. */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5)
    return `must have five fields (minute hour day-of-month month day-of-week); it has ${fields.length}`;
  try {
    const job = new Cron(cron, { paused: true });
    return job.nextRun() === null ? "never fires" : null;
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, "");
  }
}

export function schedulesRule(ctx: ValidationContext): void {
  const schedules = ctx.document.schedules;
  if (schedules.length > MAX_SCHEDULES) {
    ctx.report(
      "schedules",
      `A pipeline may have at most ${MAX_SCHEDULES} schedules; it has ${schedules.length}.`,
    );
  }
  const seen = new Set<string>();
  schedules.forEach((schedule, index) => {
    const at = `schedules[${index}]`;
    const problem = cronProblem(schedule.cron);
    if (problem !== null) ctx.report(`${at}.cron`, `cron ${JSON.stringify(schedule.cron)} ${problem}.`);
    if (schedule.timezone !== null && !isTimeZone(schedule.timezone)) {
      ctx.report(
        `${at}.timezone`,
        `${JSON.stringify(schedule.timezone)} is not an IANA time zone such as Europe/Paris.`,
      );
    }
    const key = `${schedule.cron.trim().split(/\s+/).join(" ")}|${schedule.timezone ?? "UTC"}`;
    if (seen.has(key)) ctx.report(at, "This schedule appears more than once.");
    seen.add(key);
  });
}
