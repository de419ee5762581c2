/**
 * Messages to and from NATS payloads: UTF-8 JSON, one message per payload (PROTOCOL.md section 1).
 * `encode` refuses to send an invalid message; `decode` never throws: it returns the typed message
 * or a ProtocolError that says what was wrong, where, and on which subject.
 */
import type { z } from "zod";
import { MAX_MESSAGE_BYTES } from "./limits";
import {
  VERSIONED_KINDS,
  messageSchemas,
  type Message,
  type MessageInput,
  type MessageKind,
} from "./messages";
import { checkCompatible } from "./version";

export type ProtocolIssue = z.core.$ZodIssue;

export type ProtocolErrorReason =
  /** The payload is not UTF-8 JSON. */
  | "InvalidJson"
  /** The JSON breaks a rule of the message's schema. */
  | "InvalidMessage"
  /** `protocolVersion` is missing or one this peer does not support. */
  | "IncompatibleVersion"
  /** The payload is larger than the kind's MAX_MESSAGE_BYTES. */
  | "TooLarge";

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";

  constructor(
    readonly reason: ProtocolErrorReason,
    readonly kind: MessageKind,
    /** The subject the message came from or was meant for, when known. */
    readonly subject: string | undefined,
    /** What was wrong, each with the path of the offending field (`inputArtifacts[0].sha256`). */
    readonly issues: readonly ProtocolIssue[],
    /** The message's protocolVersion when it was an integer, so an agent can tell newer from older. */
    readonly version?: number,
  ) {
    super(describe(reason, kind, subject, issues));
  }
}

export type DecodeResult<K extends MessageKind> =
  { ok: true; message: Message<K> } | { ok: false; error: ProtocolError };

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Validates the message (filling in defaults) and returns its payload; throws a ProtocolError if invalid. */
export function encode<K extends MessageKind>(
  kind: K,
  message: MessageInput<K>,
  subject?: string,
): Uint8Array {
  const parsed = messageSchemas[kind].safeParse(message);
  if (!parsed.success) throw new ProtocolError("InvalidMessage", kind, subject, parsed.error.issues);
  const payload = utf8.encode(JSON.stringify(parsed.data));
  const tooLarge = sizeIssue(kind, payload);
  if (tooLarge) throw new ProtocolError("TooLarge", kind, subject, [tooLarge]);
  return payload;
}

/** Reads a payload as a message of this kind. */
export function decode<K extends MessageKind>(
  kind: K,
  payload: Uint8Array,
  subject?: string,
): DecodeResult<K> {
  const fail = (reason: ProtocolErrorReason, issues: ProtocolIssue[], version?: number): DecodeResult<K> => ({
    ok: false,
    error: new ProtocolError(reason, kind, subject, issues, version),
  });

  const tooLarge = sizeIssue(kind, payload);
  if (tooLarge) return fail("TooLarge", [tooLarge]);

  let json: unknown;
  try {
    json = JSON.parse(strictUtf8.decode(payload));
  } catch (error) {
    return fail("InvalidJson", [issue([], `The payload is not UTF-8 JSON: ${(error as Error).message}`)]);
  }

  if (VERSIONED_KINDS.has(kind) && typeof json === "object" && json !== null && !Array.isArray(json)) {
    const version = (json as { protocolVersion?: unknown }).protocolVersion;
    const compatibility = checkCompatible(version);
    if (!compatibility.compatible) {
      return fail(
        "IncompatibleVersion",
        [issue(["protocolVersion"], compatibility.message, version)],
        Number.isSafeInteger(version) ? (version as number) : undefined,
      );
    }
  }

  const parsed = messageSchemas[kind].safeParse(json);
  if (!parsed.success) return fail("InvalidMessage", parsed.error.issues);
  return { ok: true, message: parsed.data as Message<K> };
}

/** `inputArtifacts[0].sha256`; the empty path (the whole message) is `(message)`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === "" ? "(message)" : out;
}

function issue(path: PropertyKey[], message: string, input?: unknown): ProtocolIssue {
  return { code: "custom", path, message, input };
}

function sizeIssue(kind: MessageKind, payload: Uint8Array): ProtocolIssue | null {
  const max = MAX_MESSAGE_BYTES[kind];
  if (payload.byteLength <= max) return null;
  return issue([], `The message is ${payload.byteLength} bytes; a ${kind} message may have at most ${max}.`);
}

function describe(
  reason: ProtocolErrorReason,
  kind: MessageKind,
  subject: string | undefined,
  issues: readonly ProtocolIssue[],
): string {
  const where = subject === undefined ? "" : ` on ${subject}`;
  const what =
    reason === "IncompatibleVersion"
      ? "Incompatible"
      : reason === "TooLarge"
        ? "Oversized"
        : reason === "InvalidJson"
          ? "Unreadable"
          : "Invalid";
  const details = issues
    .map((i) => {
      const missing = i.code === "invalid_type" && i.input === undefined;
      return `${formatIssuePath(i.path)}: ${missing ? "is required" : i.message}`;
    })
    .join("; ");
  return `${what} ${kind} message${where}: ${details}`;
}
