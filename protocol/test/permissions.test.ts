/** What the server signs into an agent's NATS user (PROTOCOL.md 11.3), and the exchange's messages. */
import { createUser } from "@nats-io/nkeys";
import {
  agentInboxPrefix,
  agentPermissions,
  jobArtifactPath,
  jobConsumerConfig,
  natsCredentialsRequestSchema,
  natsNames,
  type ActionTypeId,
} from "../src";

const SHELL: ActionTypeId = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" };
const GIT: ActionTypeId = { category: "Source", owner: "Sluice", provider: "Git", version: "1" };
const AGENT = "0b5c1e0e-1111-2222-3333-444455556666";

describe("agentPermissions", () => {
  const names = natsNames("sluice");
  const { publish, subscribe } = agentPermissions({
    prefix: "sluice",
    agentId: AGENT,
    pool: "linux",
    providers: [SHELL, GIT],
  });

  it("subscribes to its own inbox and cancel subject only", () => {
    expect(subscribe).toEqual([`${agentInboxPrefix(AGENT)}.>`, names.subjects.agentCancel(AGENT)]);
  });

  it("pulls from the consumers of its pool and providers, and from no other", () => {
    for (const type of [SHELL, GIT]) {
      const durable = jobConsumerConfig("sluice", "linux", type).durable_name;
      expect(publish).toContain(`$JS.API.CONSUMER.MSG.NEXT.sluice_JOBS.${durable}`);
      expect(publish).toContain(`$JS.ACK.sluice_JOBS.${durable}.>`);
    }
    const jobsApi = publish.filter((s) => s.includes("sluice_JOBS"));
    expect(jobsApi).toHaveLength(6);
    expect(jobsApi.every((s) => !s.includes("*") && !s.endsWith("sluice_JOBS.>"))).toBe(true);
  });

  it("has no permission at all on the artifacts bucket: artifacts go through the server's HTTP address", () => {
    const bucket = names.artifactsBucket;
    for (const subject of [...publish, ...subscribe]) {
      expect(subject).not.toContain(`OBJ_${bucket}`);
      expect(subject).not.toMatch(/^\$O\./);
      expect(subject).not.toMatch(/^\$JS\.FC\./);
      expect(subject).not.toMatch(/PURGE|CONSUMER\.CREATE|CONSUMER\.DELETE|STREAM\.INFO/);
    }
  });

  it("never publishes jobs, cancels or events, reads the results stream, or manages streams", () => {
    for (const subject of publish) {
      expect(subject).not.toMatch(/^sluice\.(jobs|cancel|events|installation)\b/);
      expect(subject).not.toMatch(/\.agents\.\*|^>$|^\$SYS|RESULTS|STREAM\.(CREATE|DELETE|UPDATE)|DURABLE/);
    }
  });
});

describe("agentPermissions of an agent of another account", () => {
  it("pulls from its account's pool only, never the default account's pool of that name", () => {
    const { publish } = agentPermissions({
      prefix: "sluice",
      agentId: AGENT,
      pool: "linux",
      account: "team-b",
      providers: [SHELL],
    });
    const own = jobConsumerConfig("sluice", "linux", SHELL, { account: "team-b" }).durable_name;
    const defaults = jobConsumerConfig("sluice", "linux", SHELL).durable_name;
    expect(own).not.toBe(defaults);
    expect(publish).toContain(`$JS.API.CONSUMER.MSG.NEXT.sluice_JOBS.${own}`);
    expect(publish.filter((s) => s.includes(defaults + "."))).toEqual([]);
    expect(publish.filter((s) => s.endsWith(`.${defaults}`))).toEqual([]);
  });
});

describe("jobArtifactPath", () => {
  it("names an attempt's input and output routes", () => {
    expect(jobArtifactPath("input", "job-1", 2, "Src")).toBe("/agents/jobs/job-1/2/inputs/Src");
    expect(jobArtifactPath("output", "job-1", 2, "Out")).toBe("/agents/jobs/job-1/2/outputs/Out");
  });
});

describe("natsCredentialsRequestSchema", () => {
  it("takes a user public key and refuses a seed or anything else", () => {
    const user = createUser();
    const base = { name: "build-01", pool: "default", providers: [SHELL] };
    expect(natsCredentialsRequestSchema.safeParse({ ...base, publicKey: user.getPublicKey() }).success).toBe(
      true,
    );
    const seed = new TextDecoder().decode(user.getSeed());
    expect(natsCredentialsRequestSchema.safeParse({ ...base, publicKey: seed }).success).toBe(false);
    expect(natsCredentialsRequestSchema.safeParse({ ...base, publicKey: "UABC" }).success).toBe(false);
  });
});
