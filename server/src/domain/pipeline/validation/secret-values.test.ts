/**
 * No validation message quotes the value of a property declared secret: messages reach the
 * client and the audit log's error column.
 */
import { createRegistry } from "../../action-types/builtins";
import type { ActionTypeDefinition } from "../../action-types/action-type";
import { action, gitSource, pipeline, stage, validate } from "./__tests__/harness";
import type { ValidationContext } from "./context";
import { validatePipeline } from "./validate";

const SECRET = "hunter2-s3cr3t-value";

const deployer: ActionTypeDefinition = {
  id: { category: "Deploy", owner: "Custom", provider: "Vault", version: "1" },
  description: null,
  configurationProperties: [
    { name: "Port", required: false, secret: true, queryable: false, description: null, type: "Number" },
    { name: "Debug", required: false, secret: true, queryable: false, description: null, type: "Boolean" },
    { name: "Token", required: false, secret: true, queryable: false, description: null, type: "String" },
  ],
  inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
  settings: {
    entityUrlTemplate: null,
    executionUrlTemplate: null,
    revisionUrlTemplate: null,
    thirdPartyConfigurationUrl: null,
  },
};
const registry = createRegistry([deployer]);

function withDeploy(configuration: Record<string, unknown>) {
  const deploy = action("Ship", deployer.id, { configuration: configuration as Record<string, string> });
  return pipeline({ stages: [stage("Source", [gitSource()]), stage("Deploy", [deploy])] });
}

describe("secret values in validation messages", () => {
  it("a secret Number or Boolean given text is refused without quoting it", () => {
    const issues = validate(withDeploy({ Port: SECRET, Debug: `${SECRET}!` }), registry);
    expect(issues.map((i) => i.path)).toEqual([
      "stages[1].actions[0].configuration.Port",
      "stages[1].actions[0].configuration.Debug",
    ]);
    expect(issues[0]!.message).toBe(
      "Port of Deploy/Custom/Vault@1 is a number, but the secret value is not.",
    );
    expect(JSON.stringify(issues)).not.toContain("hunter2");
  });

  it("a bad reference inside a secret value is reported without its text", () => {
    const issues = validate(withDeploy({ Token: `${SECRET}#{nowhere.${SECRET}}` }), registry);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("stages[1].actions[0].configuration.Token");
    expect(issues[0]!.message).toMatch(/^A reference in this secret value names namespace/);
    expect(JSON.stringify(issues)).not.toContain("hunter2");
  });

  it("a configuration value of the wrong shape is not quoted either", () => {
    const issues = validate(withDeploy({ Token: { value: SECRET }, Port: 1234567 }), registry);
    expect(issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(issues)).not.toContain("hunter2");
    expect(JSON.stringify(issues)).not.toContain("1234567");
  });

  it("whatever rule quotes a secret value, the message shows the mask", () => {
    const quoting = (ctx: ValidationContext) => ctx.report("stages[1]", `Echo "${SECRET}" and "${SECRET}".`);
    const result = validatePipeline(withDeploy({ Token: SECRET }), registry, { rules: [quoting] });
    expect(result).toEqual({
      ok: false,
      issues: [{ path: "stages[1]", message: 'Echo "****" and "****".' }],
    });
  });
});
