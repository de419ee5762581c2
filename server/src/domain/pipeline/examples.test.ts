import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { builtinRegistry } from "../action-types/builtins";
import { exportPipelineDocument } from "./parse";
import { validatePipeline } from "./validation/validate";

const EXAMPLES = resolve(__dirname, "../../../../examples");
const files = readdirSync(EXAMPLES).filter((file) => file.endsWith(".json"));

describe("the example pipelines in /examples", () => {
  it("include the three documented examples", () => {
    expect(files).toEqual(
      expect.arrayContaining(["web-app.json", "library-release.json", "multi-region-deploy.json"]),
    );
  });

  it.each(files)("%s is valid against the built-in action types and exports as written", (file) => {
    const json: unknown = JSON.parse(readFileSync(join(EXAMPLES, file), "utf8"));
    const result = validatePipeline(json, builtinRegistry);
    expect(result).toEqual({ ok: true, document: expect.anything() });
    if (result.ok) expect(exportPipelineDocument(result.document)).toEqual(json);
  });
});
