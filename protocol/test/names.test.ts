import fc from "fast-check";
import {
  DEFAULT_PREFIX,
  artifactKey,
  isValidPrefix,
  msgIds,
  natsNames,
  outputArtifactKeyPrefix,
  tokenize,
  tryUntokenize,
  untokenize,
  type ActionTypeId,
  type ParsedSubject,
} from "../src";
import { SHELL } from "./fixtures";

/** What NATS allows in one subject token without special meaning, restricted to our alphabet. */
const SAFE_TOKEN = /^[A-Za-z0-9_=-]+$/;
const pipelineNames = fc.stringMatching(/^[A-Za-z0-9.@_-]{1,100}$/);
const anyText = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 });

describe("tokenize", () => {
  it.each([
    ["web-app", "web-app"],
    ["web_app", "web_app"],
    ["web.app@v2", "web=2Eapp=40v2"],
    ["a=b", "a=3Db"],
    ["a.b", "a=2Eb"],
    ["a=2Eb", "a=3D2Eb"],
    ["*", "=2A"],
    [">", "=3E"],
    ["two words", "two=20words"],
    ["é", "=C3=A9"],
    ["🚀", "=F0=9F=9A=80"],
  ])("%j → %j", (value, token) => {
    expect(tokenize(value)).toBe(token);
    expect(untokenize(token)).toBe(value);
  });

  it("leaves ids, pools, providers and versions as they are", () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), (id) => tokenize(id) === id));
  });

  it("gives every pipeline name a NATS-safe token that untokenizes back", () => {
    fc.assert(
      fc.property(pipelineNames, (name) => {
        const token = tokenize(name);
        return SAFE_TOKEN.test(token) && untokenize(token) === name;
      }),
    );
  });

  it("round-trips any well-formed text", () => {
    fc.assert(
      fc.property(anyText, (text) => untokenize(tokenize(text)) === text && SAFE_TOKEN.test(tokenize(text))),
    );
  });

  it("gives different names different tokens", () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => a === b || tokenize(a) !== tokenize(b)),
      { numRuns: 500 },
    );
    // the pairs an ad-hoc escape would confuse
    const tricky = ["a.b", "a@b", "a_b", "a-b", "a=2Eb", "a=b", "a_2Eb", "a__b", "a..b", ".", "..", "@"];
    expect(new Set(tricky.map(tokenize)).size).toBe(tricky.length);
  });

  it("refuses values that have no token", () => {
    expect(() => tokenize("")).toThrow(/empty/);
    expect(() => tokenize("a\uD800b")).toThrow(/well-formed/);
  });

  it.each([
    ["", "empty"],
    ["a.b", "a dot"],
    ["a*", "a wildcard"],
    ["a=2e", "lowercase hex"],
    ["a=2", "a cut-off escape"],
    ["a=", "a stray ="],
    ["=41", "an escaped character that needs no escape"],
    ["=C3", "bytes that are not UTF-8"],
    ["a b", "a space"],
  ])("untokenize refuses %j (%s)", (token) => {
    expect(tryUntokenize(token)).toBeNull();
    expect(() => untokenize(token)).toThrow(/not a subject token/);
  });
});

describe("natsNames", () => {
  const n = natsNames("acme");
  const custom: ActionTypeId = {
    category: "Deploy",
    owner: "Custom",
    provider: "Helm_Chart",
    version: "2-beta",
  };

  it("builds every name of the protocol from the prefix", () => {
    expect({
      streams: n.streams,
      wildcards: n.wildcards,
      consumers: { engine: n.consumers.engine, job: n.consumers.job("eu_west", custom) },
      queueGroup: n.queueGroup,
      artifactsBucket: n.artifactsBucket,
      subjects: {
        job: n.subjects.job("eu_west", custom),
        accept: n.subjects.accept,
        heartbeat: n.subjects.heartbeat,
        complete: n.subjects.complete,
        log: n.subjects.log("job-1"),
        cancel: n.subjects.cancel("job-1"),
        agentCancel: n.subjects.agentCancel("agent-1"),
        register: n.subjects.register,
        agentHeartbeat: n.subjects.agentHeartbeat,
        event: n.subjects.event("web.app@v2"),
        installation: n.subjects.installation,
      },
    }).toEqual({
      streams: {
        jobs: "acme_JOBS",
        results: "acme_RESULTS",
        logs: "acme_LOGS",
        cancel: "acme_CANCEL",
        events: "acme_EVENTS",
        installation: "acme_INSTALLATION",
      },
      wildcards: {
        jobs: "acme.jobs.>",
        results: "acme.results.>",
        logs: "acme.logs.>",
        cancel: "acme.cancel.>",
        events: "acme.events.>",
        installation: "acme.installation",
      },
      consumers: { engine: "acme_engine", job: "acme_jobs_eu=5Fwest_Deploy_Custom_Helm=5FChart_2-beta" },
      queueGroup: "acme_engine",
      artifactsBucket: "acme_artifacts",
      subjects: {
        job: "acme.jobs.eu_west.Deploy.Custom.Helm_Chart.2-beta",
        accept: "acme.results.accept",
        heartbeat: "acme.results.heartbeat",
        complete: "acme.results.complete",
        log: "acme.logs.job-1",
        cancel: "acme.cancel.job-1",
        agentCancel: "acme.agents.agent-1.cancel",
        register: "acme.agents.register",
        agentHeartbeat: "acme.agents.heartbeat",
        event: "acme.events.web=2Eapp=40v2",
        installation: "acme.installation",
      },
    });
  });

  it("defaults the prefix to sluice", () => {
    expect(DEFAULT_PREFIX).toBe("sluice");
    expect(natsNames().subjects.job("default", SHELL)).toBe("sluice.jobs.default.Build.Sluice.Shell.1");
  });

  it.each(["", "a.b", "a b", "a*", "a>", "x".repeat(33), "acme!"])("refuses the prefix %j", (prefix) => {
    expect(isValidPrefix(prefix)).toBe(false);
    expect(() => natsNames(prefix)).toThrow(/NATS prefix/);
  });

  it("accepts prefixes of letters, digits, _ and -", () => {
    for (const prefix of ["sluice", "Prod_2", "team-a", "x".repeat(32)])
      expect(isValidPrefix(prefix)).toBe(true);
  });

  it("refuses values that would break a subject instead of escaping them silently", () => {
    expect(() => n.subjects.job("eu.west", SHELL)).toThrow(/Pool "eu.west"/);
    expect(() => n.subjects.job("default", { ...SHELL, provider: "a.b" })).toThrow(/Provider/);
    expect(() => n.subjects.job("default", { ...SHELL, category: "Nope" } as never)).toThrow(/category/);
    expect(() => n.subjects.log("a.b")).toThrow(/Job id/);
    expect(() => n.subjects.agentCancel("*")).toThrow(/Agent id/);
  });

  it("keeps the default account's job subjects and consumers, and gives other accounts their own", () => {
    expect(n.subjects.job("linux", SHELL, "default")).toBe(n.subjects.job("linux", SHELL));
    expect(n.subjects.job("linux", SHELL)).toBe("acme.jobs.linux.Build.Sluice.Shell.1");
    expect(n.subjects.job("linux", SHELL, "team-b")).toBe("acme.jobs.team-b.linux.Build.Sluice.Shell.1");
    expect(n.consumers.job("linux", SHELL, "default")).toBe("acme_jobs_linux_Build_Sluice_Shell_1");
    expect(n.consumers.job("linux", SHELL, "team_b")).toBe("acme_jobs_team=5Fb_linux_Build_Sluice_Shell_1");
    // An account's pool is never another account's (nor a default pool named like the account).
    const part = fc.stringMatching(/^[A-Za-z0-9_-]{1,9}$/);
    fc.assert(
      fc.property(part, part, part, part, (account1, pool1, account2, pool2) => {
        const a = n.consumers.job(pool1, SHELL, account1);
        const b = n.consumers.job(pool2, SHELL, account2);
        const sa = n.subjects.job(pool1, SHELL, account1);
        const sb = n.subjects.job(pool2, SHELL, account2);
        const same = pool1 === pool2 && account1 === account2;
        return same === (a === b) && same === (sa === sb);
      }),
    );
    expect(n.parse("acme.jobs.default.linux.Build.Sluice.Shell.1")).toBeNull();
    expect(() => n.subjects.job("linux", SHELL, "a.b")).toThrow(/Account "a.b"/);
  });

  it("gives different pools and action types different job consumers", () => {
    const part = fc.stringMatching(/^[A-Za-z0-9_-]{1,9}$/);
    fc.assert(
      fc.property(part, part, part, part, (pool1, provider1, pool2, provider2) => {
        const a = n.consumers.job(pool1, { ...SHELL, provider: provider1 });
        const b = n.consumers.job(pool2, { ...SHELL, provider: provider2 });
        return (pool1 === pool2 && provider1 === provider2) === (a === b);
      }),
    );
    // "_" inside a part cannot shift the boundary between parts
    expect(n.consumers.job("a_b", { ...SHELL, provider: "c" })).not.toBe(
      n.consumers.job("a", { ...SHELL, provider: "b_c" }),
    );
  });
});

describe("parse: every subject a builder makes parses back to what built it", () => {
  const n = natsNames("acme");

  it.each<[string, ParsedSubject]>([
    [
      n.subjects.job("eu_west", SHELL),
      { kind: "job", message: "job", pool: "eu_west", actionTypeId: SHELL, account: "default" },
    ],
    [
      n.subjects.job("eu_west", SHELL, "team-b"),
      { kind: "job", message: "job", pool: "eu_west", actionTypeId: SHELL, account: "team-b" },
    ],
    [n.subjects.accept, { kind: "accept", message: "accept" }],
    [n.subjects.heartbeat, { kind: "heartbeat", message: "heartbeat" }],
    [n.subjects.complete, { kind: "complete", message: "complete" }],
    [n.subjects.log("job-1"), { kind: "logs", message: "logChunk", jobId: "job-1" }],
    [n.subjects.cancel("job-1"), { kind: "cancel", message: "cancel", jobId: "job-1" }],
    [n.subjects.agentCancel("agent-1"), { kind: "agentCancel", message: "cancel", agentId: "agent-1" }],
    [n.subjects.agentCancel("register"), { kind: "agentCancel", message: "cancel", agentId: "register" }],
    [n.subjects.register, { kind: "register", message: "registerRequest" }],
    [n.subjects.agentHeartbeat, { kind: "agentHeartbeat", message: "agentHeartbeat" }],
    [
      n.subjects.event("web.app@v2"),
      { kind: "events", message: "pipelineEvent", pipelineName: "web.app@v2" },
    ],
  ])("%s", (subject, parsed) => {
    expect(n.parse(subject)).toEqual(parsed);
  });

  it("round-trips every pipeline name through its event subject", () => {
    fc.assert(
      fc.property(pipelineNames, (name) => {
        const parsed = n.parse(n.subjects.event(name));
        return parsed?.kind === "events" && parsed.pipelineName === name;
      }),
    );
  });

  it.each([
    "sluice.results.accept", // another installation
    "acme",
    "acme.results",
    "acme.results.accept.extra",
    "acme.results.other",
    "acme.jobs.default.Build.Sluice.Shell", // a token short
    "acme.jobs.default.Build.AWS.Shell.1", // unknown owner
    "acme.jobs.eu=2Ewest.Build.Sluice.Shell.1", // a pool cannot hold a dot
    "acme.logs.a=2Eb", // nor an id
    "acme.events.web.app", // an unescaped dot adds a token
    "acme.events.=41", // not canonical
    "acme.agents.a1.kill",
    "acme.unknown.x",
  ])("does not parse %s", (subject) => {
    expect(n.parse(subject)).toBeNull();
  });
});

describe("de-duplication ids and artifact keys", () => {
  it("builds the Nats-Msg-Id of each message from its idempotence key", () => {
    expect([
      msgIds.job("j1", 2),
      msgIds.accept("j1", 2),
      msgIds.complete("j1", 2, "a1"),
      msgIds.logChunk("j1", 2, 17),
      msgIds.cancel("j1", 2),
      msgIds.pipelineEvent("e1", 9),
    ]).toEqual(["job:j1:2", "accept:j1:2", "complete:j1:2:a1", "log:j1:2:17", "cancel:j1:2", "event:e1:9"]);
  });

  it("names artifact objects <executionId>/<artifactName>", () => {
    expect(outputArtifactKeyPrefix("e1", "j1", 2)).toBe("e1/j1/2/");
    expect(artifactKey("e1", "j1", 1, "SourceCode")).toBe("e1/j1/1/SourceCode");
    expect(() => artifactKey("e1", "j1", 1, "../x")).toThrow(/Artifact name/);
    expect(() => artifactKey("e/1", "j1", 1, "x")).toThrow(/Execution id/);
    expect(() => artifactKey("e1", "j/1", 1, "x")).toThrow(/Job id/);
    expect(() => artifactKey("e1", "j1", 0, "x")).toThrow(/Attempt/);
  });
});
