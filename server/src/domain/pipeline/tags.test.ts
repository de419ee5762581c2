import { mergeTags, tagIssues, tagKeyIssues, taggablePipeline } from "./tags";

describe("tags", () => {
  it("accepts CodePipeline's limits: keys of 1–128, values of 0–256 characters, 50 tags", () => {
    const tags = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`.padEnd(128, "x"),
      value: "v".repeat(256),
    }));
    expect(tagIssues(tags)).toEqual([]);
    expect(tagIssues([{ key: "team", value: "" }])).toEqual([]);
    expect(tagIssues([{ key: "Ünïcode ключ", value: "a b_c.d:e/f=g+h-i@j" }])).toEqual([]);
  });

  it("reports each bad tag at its path, and more than 50 as a quota", () => {
    expect(
      tagIssues([
        { key: "", value: "x" },
        { key: "k".repeat(129), value: "v".repeat(257) },
        { key: "aws:owner", value: "x" },
        { key: "SLUICE:x", value: "x" },
        { key: "team", value: "a" },
        { key: "team", value: "b" },
        { key: "semi;colon", value: "new\nline" },
      ]),
    ).toEqual([
      { path: "tags[0].key", message: "A tag key cannot be empty." },
      { path: "tags[1].key", message: "A tag key has at most 128 characters; this one has 129." },
      { path: "tags[1].value", message: "A tag value has at most 256 characters; this one has 257." },
      { path: "tags[2].key", message: 'Tag keys starting with "aws:" are reserved.' },
      { path: "tags[3].key", message: 'Tag keys starting with "sluice:" are reserved.' },
      { path: "tags[5].key", message: 'The key "team" is already given at tags[4].' },
      { path: "tags[6].key", message: "A tag key holds only letters, digits, spaces and _ . : / = + - @." },
      {
        path: "tags[6].value",
        message: "A tag value holds only letters, digits, spaces and _ . : / = + - @.",
      },
    ]);
    const many = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: "" }));
    expect(tagIssues(many)).toEqual([
      { path: "tags", message: "A resource has at most 50 tags; 51 were given.", limit: true },
    ]);
  });

  it("checks the keys to remove", () => {
    expect(tagKeyIssues(["team", "aws:x", ""])).toEqual([
      { path: "tagKeys[1]", message: 'Tag keys starting with "aws:" are reserved.' },
      { path: "tagKeys[2]", message: "A tag key cannot be empty." },
    ]);
  });

  it("merges: a key given again takes the new value", () => {
    expect(
      mergeTags(
        [
          { key: "a", value: "1" },
          { key: "b", value: "2" },
        ],
        [
          { key: "b", value: "3" },
          { key: "c", value: "4" },
        ],
      ),
    ).toEqual([
      { key: "a", value: "1" },
      { key: "b", value: "3" },
      { key: "c", value: "4" },
    ]);
  });

  it("names a pipeline by SRN, pipeline/<name> or pipelineArn", () => {
    expect(taggablePipeline("srn:sluice:default:pipeline/web")).toEqual({ account: "default", name: "web" });
    expect(taggablePipeline("pipeline/web")).toEqual({ account: null, name: "web" });
    expect(taggablePipeline("arn:sluice:codepipeline:::web")).toEqual({ account: null, name: "web" });
    expect(taggablePipeline("srn:sluice:default:pipeline/web/stage/Prod")).toBeNull();
    expect(taggablePipeline("arn:aws:codepipeline:us-east-1:123456789012:web")).toBeNull();
  });
});
