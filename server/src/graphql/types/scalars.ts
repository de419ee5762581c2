import { DateTimeResolver, JSONObjectResolver, JSONResolver } from "graphql-scalars";

/** Free-form JSON values (documents, metadata). */
export const JSONScalar = JSONResolver;
/** String-keyed maps such as an action's configuration. */
export const JSONObjectScalar = JSONObjectResolver;
/** ISO-8601 timestamps. */
export const DateTimeScalar = DateTimeResolver;
