import { DEFAULT_ENDPOINT, resolveEndpoint } from "../src/context";
import { UsageError } from "../src/errors";

describe("resolveEndpoint", () => {
  it("prefers --endpoint, then SLUICE_ENDPOINT, then the default", () => {
    const env = { SLUICE_ENDPOINT: "http://env:4000/graphql" };
    expect(resolveEndpoint("https://opt/graphql", env)).toBe("https://opt/graphql");
    expect(resolveEndpoint(undefined, env)).toBe("http://env:4000/graphql");
    expect(resolveEndpoint(undefined, {})).toBe(DEFAULT_ENDPOINT);
    expect(DEFAULT_ENDPOINT).toBe("http://127.0.0.1:4000/graphql");
  });

  it("ignores an empty SLUICE_ENDPOINT", () => {
    expect(resolveEndpoint(undefined, { SLUICE_ENDPOINT: "" })).toBe(DEFAULT_ENDPOINT);
  });

  it("rejects what is not an http(s) URL as a usage error", () => {
    expect(() => resolveEndpoint("127.0.0.1:4000", {})).toThrow(UsageError);
    expect(() => resolveEndpoint(undefined, { SLUICE_ENDPOINT: "nope" })).toThrow(
      'invalid SLUICE_ENDPOINT "nope": not a URL',
    );
  });
});
