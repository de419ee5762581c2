import { Field, ID, InterfaceType } from "type-graphql";

/** Which object type a value returned by `node`/`nodes` is (the loaders tag it). */
export const NODE_TYPE = Symbol("nodeType");

@InterfaceType("Node", {
  description:
    "An object with a global id: fetch it again with `node(id: nodeId)` or `nodes(ids: [...])` (GitHub's and Relay's Node). `nodeId` is opaque and stable; `id` and names stay what the other arguments take.",
  resolveType: (value: Record<PropertyKey, unknown>) => value[NODE_TYPE] as string,
})
export abstract class NodeInterface {
  @Field(() => ID, { description: "The global id: opaque, stable, unique across every type." })
  nodeId!: string;
}
