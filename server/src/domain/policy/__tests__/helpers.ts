/** Test-only helpers: policies written as plain JSON, validated as users' would be. */
import type { NamedPolicy, PolicyDocument } from "../document";
import { validatePolicy } from "../validate";

export const ACCOUNT = "acct1";

/** `srn:sluice:acct1:<path>` */
export const srn = (path: string, account = ACCOUNT) => `srn:sluice:${account}:${path}`;

/** A valid policy from JSON; throws (failing the test) with the issues when it is not valid. */
export function policy(name: string, document: unknown): NamedPolicy {
  const result = validatePolicy(document);
  if (!result.ok) throw new Error(`policy ${name} is invalid: ${JSON.stringify(result.issues)}`);
  return { name, document: result.document };
}

export function statements(...Statement: unknown[]): PolicyDocument {
  return { Version: "2012-10-17", Statement } as PolicyDocument;
}
