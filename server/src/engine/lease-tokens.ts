import crypto from "node:crypto";

/**
 * The lease token of a job (PROTOCOL.md 6.2): HMAC-SHA256 of `lease:<jobId>:<attempt>` under the
 * installation's lease key, base64url. The server sends it only in the job message; the agent that
 * took the job echoes it in its accept, heartbeats and complete, which proves the result comes from
 * whoever received that attempt, whatever agent id the message claims. Derived, not stored: every
 * server copy checks it with one HMAC, a later attempt gets another token, and nothing in the
 * results stream (which any agent may read) lets anyone compute the token of another job.
 */
export class LeaseTokens {
  private readonly key: Buffer;

  constructor(key: string) {
    if (key.length < 32) throw new Error("the lease key must have at least 32 characters");
    this.key = Buffer.from(key, "utf8");
  }

  issue(jobId: string, attempt: number): string {
    return crypto.createHmac("sha256", this.key).update(`lease:${jobId}:${attempt}`).digest("base64url");
  }

  /** Constant-time: a forger learns nothing from how long the comparison took. */
  verifies(jobId: string, attempt: number, token: string): boolean {
    const expected = Buffer.from(this.issue(jobId, attempt), "utf8");
    const given = Buffer.from(token, "utf8");
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }
}
