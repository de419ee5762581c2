import { JetStreamApiError } from "@nats-io/jetstream";
import { GraphQLError } from "graphql";
import { createLogger } from "../logger";
import { createErrorFormatter } from "./errors";

const format = createErrorFormatter(createLogger("silent"), false);
const asResolverError = (original: Error) =>
  new GraphQLError(original.message, { path: ["actionLog"], originalError: original });

describe("createErrorFormatter", () => {
  it("NATS away or a NATS cluster electing a leader: UNAVAILABLE, without the NATS error's text", () => {
    const electing = new JetStreamApiError({
      code: 503,
      err_code: 10008,
      description: "JetStream system temporarily unavailable",
    });
    for (const original of [electing, Object.assign(new Error("timeout"), { name: "TimeoutError" })]) {
      const error = asResolverError(original);
      expect(format(error.toJSON(), error)).toEqual({
        message: "The message store (NATS) is unavailable; try again shortly.",
        path: ["actionLog"],
        locations: undefined,
        extensions: { code: "UNAVAILABLE" },
      });
    }
  });

  it("anything else unexpected stays an internal error", () => {
    const error = asResolverError(new Error("no suitable peers for placement"));
    expect(format(error.toJSON(), error)).toMatchObject({ extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });
});
