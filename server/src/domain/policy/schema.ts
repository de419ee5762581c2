/**
 * The shape of a policy document (zod). Values are checked by validate.ts; a string where a list
 * is allowed stays a string here, so issue paths point at what the author wrote.
 */
import { z } from "zod";
import { POLICY_VERSION } from "./document";

const stringOrList = z.union([z.string(), z.array(z.string())]);

export const statementSchema = z.strictObject({
  Sid: z.string().optional(),
  Effect: z.enum(["Allow", "Deny"]),
  Action: stringOrList.optional(),
  NotAction: stringOrList.optional(),
  Resource: stringOrList.optional(),
  NotResource: stringOrList.optional(),
  /** Accepted by the shape so that validation can say it is not supported (validate.ts). */
  Condition: z.unknown().optional(),
});

export type RawStatement = z.infer<typeof statementSchema>;

export const policyEnvelopeSchema = z.strictObject({
  Version: z.literal(POLICY_VERSION).optional(),
  Id: z.string().optional(),
  /** Checked by validate.ts, one statement at a time. */
  Statement: z.unknown().optional(),
});
