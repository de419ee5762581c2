/**
 * tag-resource, untag-resource, list-tags-for-resource and create-pipeline --tags, with the AWS
 * CLI's option names and shorthand (`aws codepipeline tag-resource --resource-arn R --tags
 * key=K,value=V ...`).
 */
import { CREATE_PIPELINE_MUTATION } from "../src/commands/create-pipeline";
import { LIST_TAGS_QUERY, TAG_RESOURCE_MUTATION, UNTAG_RESOURCE_MUTATION } from "../src/commands/tags";
import { startFakeServer, type FakeGraphQLServer } from "./helpers/graphql-server";
import { run } from "./helpers/run";

let server: FakeGraphQLServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(() => server.close());

const sluice = (...args: string[]) => run([...args, "--endpoint", server.endpoint]);
const bodies = () => server.requests.map((r) => r.body);
const ARN = "srn:sluice:default:pipeline/web";

/** Runs `args` and checks it stops with exit 2 and `message` on stderr, sending nothing. */
async function expectUsageError(args: string[], message: string) {
  const result = await sluice(...args);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain(message);
  expect(server.requests).toHaveLength(0);
}

describe("tag-resource", () => {
  it("sends the AWS CLI's shorthand tags, in order, and prints nothing", async () => {
    server.respondData({ tagResourceV2: { resourceTags: { resourceArn: ARN } } });
    const result = await sluice(
      "tag-resource",
      "--resource-arn",
      ARN,
      "--tags",
      "key=team,value=payments",
      "key=Project,value=a=b",
      "value=,key=empty",
    );
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(bodies()).toEqual([
      {
        query: TAG_RESOURCE_MUTATION,
        variables: {
          resourceArn: ARN,
          tags: [
            { key: "team", value: "payments" },
            { key: "Project", value: "a=b" },
            { key: "empty", value: "" },
          ],
        },
      },
    ]);
  });

  it("takes the JSON form, and the AWS CLI's input JSON", async () => {
    server.respondData(
      { tagResourceV2: { resourceTags: { resourceArn: ARN } } },
      { tagResourceV2: { resourceTags: { resourceArn: ARN } } },
    );
    const tags = [
      { key: "team", value: "a" },
      { key: "tier", value: "1" },
    ];
    expect(await sluice("tag-resource", "--resource-arn", ARN, "--tags", JSON.stringify(tags))).toMatchObject(
      {
        code: 0,
      },
    );
    expect(
      await sluice("tag-resource", "--cli-input-json", JSON.stringify({ resourceArn: ARN, tags })),
    ).toMatchObject({ code: 0 });
    expect(bodies()).toEqual([
      { query: TAG_RESOURCE_MUTATION, variables: { resourceArn: ARN, tags } },
      { query: TAG_RESOURCE_MUTATION, variables: { resourceArn: ARN, tags } },
    ]);
  });

  it("refuses a tag that is not key=K,value=V before sending anything", async () => {
    for (const bad of [
      "team=a",
      "key=team",
      "key=a,value=b,extra=c",
      "key=a,key=b,value=c",
      '[{"key":1}]',
      "{",
    ])
      await expectUsageError(["tag-resource", "--resource-arn", ARN, "--tags", bad], "key=K,value=V");
    await expectUsageError(["tag-resource", "--resource-arn", ARN], "--tags");
  });

  it("prints the server's paths of bad tags", async () => {
    server.respond({
      body: {
        errors: [
          {
            message: 'Invalid input: tags[0].key: Tag keys starting with "aws:" are reserved.',
            extensions: {
              code: "BAD_USER_INPUT",
              validationErrors: [
                { path: "tags[0].key", message: 'Tag keys starting with "aws:" are reserved.' },
              ],
            },
          },
        ],
        data: null,
      },
    });
    const result = await sluice("tag-resource", "--resource-arn", ARN, "--tags", "key=aws:x,value=y");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('  tags[0].key: Tag keys starting with "aws:" are reserved.\n');
  });
});

describe("untag-resource", () => {
  it("sends the keys and prints nothing", async () => {
    server.respondData({ untagResourceV2: { resourceTags: { resourceArn: ARN } } });
    const result = await sluice("untag-resource", "--resource-arn", ARN, "--tag-keys", "team", "tier");
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(bodies()).toEqual([
      { query: UNTAG_RESOURCE_MUTATION, variables: { resourceArn: ARN, tagKeys: ["team", "tier"] } },
    ]);
  });
});

describe("list-tags-for-resource", () => {
  it("prints { tags } as the AWS CLI does, and takes --query", async () => {
    const tags = [
      { key: "team", value: "a" },
      { key: "tier", value: "1" },
    ];
    server.respondData({ listTagsForResource: { tags } }, { listTagsForResource: { tags } });
    const result = await sluice("list-tags-for-resource", "--resource-arn", ARN);
    expect(result).toEqual({ code: 0, stderr: "", stdout: `${JSON.stringify({ tags }, null, 2)}\n` });
    const values = await sluice(
      "list-tags-for-resource",
      "--resource-arn",
      ARN,
      "--query",
      "tags[?key=='team'].value",
      "--output",
      "text",
    );
    expect(values).toEqual({ code: 0, stderr: "", stdout: "a\n" });
    expect(bodies()[0]).toEqual({ query: LIST_TAGS_QUERY, variables: { resourceArn: ARN } });
  });
});

describe("create-pipeline tags", () => {
  const document = { name: "a", stages: [] };

  it("sends --tags, and the tags of the AWS CLI form { pipeline, tags } (the command line wins a key)", async () => {
    server.respondData(
      { createPipelineV2: { pipeline: { name: "a", version: 1 } } },
      { createPipelineV2: { pipeline: { name: "a", version: 1 } } },
    );
    expect(
      await sluice(
        "create-pipeline",
        "--cli-input-json",
        JSON.stringify(document),
        "--tags",
        "key=team,value=a",
      ),
    ).toMatchObject({ code: 0 });
    const wrapped = {
      pipeline: document,
      tags: [
        { key: "team", value: "from-input" },
        { key: "tier", value: "1" },
      ],
    };
    expect(
      await sluice(
        "create-pipeline",
        "--cli-input-json",
        JSON.stringify(wrapped),
        "--tags",
        "key=team,value=b",
      ),
    ).toMatchObject({ code: 0 });
    expect(bodies()).toEqual([
      {
        query: CREATE_PIPELINE_MUTATION,
        variables: { input: document, tags: [{ key: "team", value: "a" }] },
      },
      {
        query: CREATE_PIPELINE_MUTATION,
        variables: {
          input: document,
          tags: [
            { key: "team", value: "b" },
            { key: "tier", value: "1" },
          ],
        },
      },
    ]);
  });

  it("refuses tags in the input that are not a list of { key, value }", async () => {
    await expectUsageError(
      ["create-pipeline", "--cli-input-json", JSON.stringify({ pipeline: document, tags: { key: "a" } })],
      '"tags" must be a list',
    );
  });
});
