/** Time comes in from outside so that tests can control it. */
export type Clock = () => Date;

/** Millisecond precision on purpose: timestamps round-trip through JS Dates and keyset cursors. */
export const systemClock: Clock = () => new Date();
