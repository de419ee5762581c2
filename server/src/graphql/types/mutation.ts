/**
 * GitHub's mutation shape (graphql/deprecations.ts): `input: <Name>Input!` with an optional
 * `clientMutationId`, answered by a `<Name>Payload!` that echoes it. The bases and the two
 * builders every new-style mutation's types are made with.
 */
import type { ClassType } from "type-graphql";
import { Field, InputType, ObjectType } from "type-graphql";

const CLIENT_MUTATION_ID =
  "Any string the client chooses; the payload echoes it, to match answers to requests.";

/**
 * The base of every new-style input: its fields are inherited. Registered for type-graphql to
 * find them; no field takes it, so the schema does not show it.
 */
@InputType("MutationInputBase")
export abstract class MutationInput {
  @Field(() => String, { nullable: true, description: CLIENT_MUTATION_ID })
  clientMutationId?: string | null;
}

/** The base of every new-style payload: its fields are inherited (not shown in the schema either). */
@ObjectType("MutationPayloadBase")
export abstract class MutationPayload {
  @Field(() => String, { nullable: true, description: "The input's clientMutationId, as sent." })
  clientMutationId?: string | null;
}

export interface FieldSpec {
  /** As @Field takes it: `() => String`, `() => [TagInput]`. */
  type: () => unknown;
  nullable?: boolean;
  defaultValue?: unknown;
  description?: string;
}

type Specs<T> = { [K in keyof T]-?: FieldSpec };

function build<T>(base: ClassType, name: string, fields: Specs<T>): ClassType {
  const made = { [name]: class extends (base as ClassType<object>) {} }[name]!;
  for (const [key, spec] of Object.entries(fields) as [string, FieldSpec][]) {
    Field(spec.type as never, {
      ...(spec.nullable ? { nullable: true } : {}),
      ...(spec.defaultValue !== undefined ? { defaultValue: spec.defaultValue } : {}),
      ...(spec.description ? { description: spec.description } : {}),
    })(made.prototype, key);
  }
  return made;
}

/** `input <name> { clientMutationId: String, ...fields }` */
export function mutationInput<T extends object>(
  name: string,
  description: string,
  fields: Specs<T>,
): ClassType<T & MutationInput> {
  const made = build(MutationInput as unknown as ClassType, name, fields);
  InputType(name, { description })(made);
  return made as ClassType<T & MutationInput>;
}

/** `type <name> { clientMutationId: String, ...fields }` */
export function mutationPayload<T extends object>(
  name: string,
  description: string,
  fields: Specs<T>,
): ClassType<T & MutationPayload> {
  const made = build(MutationPayload as unknown as ClassType, name, fields);
  ObjectType(name, { description })(made);
  return made as ClassType<T & MutationPayload>;
}

/** A payload: the input's clientMutationId, then what the mutation changed. */
export function payload<T extends object>(
  input: { clientMutationId?: string | null },
  fields: T,
): T & { clientMutationId: string | null } {
  return { clientMutationId: input.clientMutationId ?? null, ...fields };
}

/** What a resolver receives for `input: <Name>Input!`. */
export type InputOf<C extends ClassType> = InstanceType<C>;
