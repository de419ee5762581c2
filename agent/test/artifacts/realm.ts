/**
 * Jest runs tests in a separate realm: a Date made by node:fs (file mtimes) is not `instanceof`
 * the test realm's Date, and node-tar's pax encoder relies on `instanceof Date`, writing an
 * invalid mtime for every entry that needs a pax header (long or non-ASCII names). Outside jest
 * there is one realm and no problem; this makes the check realm-independent for the tests.
 */
import { types } from "node:util";

Object.defineProperty(Date, Symbol.hasInstance, {
  value: (value: unknown) => types.isDate(value),
  configurable: true,
});
