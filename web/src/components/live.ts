"use client";

import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { useCallback, useEffect, useRef, useState } from "react";
import { useQuery, useSubscription, type AnyVariables, type UseQueryResponse } from "urql";
import { applyEvent, REFETCH, type LiveApply, type LiveEvent } from "./live-apply";
import { useSession } from "./Providers";

export { REFETCH, type LiveApply, type LiveEvent } from "./live-apply";

/** `base` before the first answer was looked at. */
const NOT_YET = Symbol("not yet");

/** Events kept to apply again on data fetched meanwhile (the fetch may or may not include them). */
const RECENT_EVENTS = 200;

/**
 * A query kept live by a subscription.
 *
 * With `live`, each event is applied to the data shown (`live.apply`, a reducer of the page): no
 * query is sent. The hook remembers the last sequence of every execution the data shows; an event
 * that skips one (the subscription lost some, or it started after the query was answered and
 * missed one in between) makes the page fetch again, once, and so does an event the page cannot
 * apply (REFETCH). Events that arrive while a fetch runs are applied to its answer as well, unless
 * it already includes them (by sequence).
 *
 * Without `live`, every event fetches the query again (events arriving together are coalesced into
 * one fetch, and none is lost while a fetch runs). Either way the socket coming back after a loss
 * fetches again. No timer asks the server anything.
 */
export function useLiveQuery<
  Data,
  Variables extends AnyVariables,
  Event,
  EventVariables extends AnyVariables,
>(args: {
  query: TypedDocumentNode<Data, Variables>;
  variables: Variables;
  subscription: TypedDocumentNode<Event, EventVariables>;
  subscriptionVariables: EventVariables;
  /** Called with each event before the refetch; return false to skip the refetch (without `live`). */
  onEvent?: (event: Event) => boolean | void;
  /** Apply events to the data instead of fetching it again. */
  live?: LiveApply<Data, Event>;
  /**
   * No subscription while this says so of the query's data: for one the server completes
   * (executionEvents ends when the execution is final). When it no longer does (a retry resumed
   * the execution), a new subscription starts.
   */
  pauseSubscriptionWhen?: (data: Data | undefined) => boolean;
}): UseQueryResponse<Data, Variables> {
  const response = useQuery({ query: args.query, variables: args.variables });
  const [result, reexecute] = response;
  /** The latest events, applied again to an answer fetched while they came (RECENT_EVENTS). */
  const recent = useRef<LiveEvent[]>([]);
  const refetch = useCallback(() => {
    // The answer includes every event that came before it was asked for.
    recent.current = [];
    reexecute({ requestPolicy: "network-only" });
  }, [reexecute]);

  // Coalesce: one fetch at a time, and one more after it when events came in meanwhile.
  const pending = useRef(false);
  const fetching = result.fetching;
  const schedule = useCallback(() => {
    if (fetching) pending.current = true;
    else refetch();
  }, [fetching, refetch]);
  const scheduleRef = useRef(schedule);
  scheduleRef.current = schedule;

  // ── Applying events ───────────────────────────────────────────────────────────────────────────
  const live = args.live;
  const liveRef = useRef(live);
  liveRef.current = live;
  /** The data shown: the last answer with the events since applied (`base` is that answer). */
  const [shown, setShown] = useState<{ base: Data | undefined | typeof NOT_YET; data: Data | undefined }>({
    base: NOT_YET,
    data: undefined,
  });
  const state = useRef({
    base: undefined as Data | undefined,
    data: undefined as Data | undefined,
    /** The last sequence seen per execution the data shows. */
    last: new Map<string, number>(),
  });

  /** One event on `data`: the new data, or REFETCH (a gap, or too little in it). */
  const applyOne = useCallback(
    (data: Data, event: LiveEvent, last: Map<string, number>): Data | typeof REFETCH =>
      applyEvent(liveRef.current!, data, event, last),
    [],
  );

  // A new answer from the server: it is what is shown, from the sequences it is at; the events
  // that came while it was fetched and that it does not include are applied to it.
  if (live && result.data !== shown.base) {
    const s = state.current;
    s.base = result.data;
    s.last = new Map(result.data === undefined ? [] : live.sequences(result.data));
    let data = result.data;
    let refetchNow = false;
    if (data !== undefined) {
      for (const event of recent.current) {
        const next = applyOne(data, event, s.last);
        if (next === REFETCH) refetchNow = true;
        else data = next;
      }
    }
    recent.current = [];
    s.data = data;
    setShown({ base: result.data, data });
    // Fetched once this answer is in (the effect below), never twice for one event.
    if (refetchNow) pending.current = true;
  }

  useEffect(() => {
    if (!fetching && pending.current) {
      pending.current = false;
      refetch();
    }
  }, [fetching, refetch, shown]);

  const onEvent = args.onEvent;
  useSubscription(
    {
      query: args.subscription,
      variables: args.subscriptionVariables,
      pause: args.pauseSubscriptionWhen?.(live ? state.current.data : result.data) ?? false,
    },
    (_previous, payload: Event) => {
      const apply = liveRef.current;
      if (!apply) {
        if (onEvent?.(payload) !== false) scheduleRef.current();
        return payload;
      }
      const event = apply.event(payload);
      const s = state.current;
      recent.current.push(event);
      if (recent.current.length > RECENT_EVENTS) recent.current.shift();
      if (s.data === undefined) return payload; // applied to the answer when it comes
      const next = applyOne(s.data, event, s.last);
      if (next === REFETCH) scheduleRef.current();
      else if (next !== s.data) {
        s.data = next;
        setShown({ base: s.base, data: next });
      }
      return payload;
    },
  );

  const { reconnects } = useSession();
  useEffect(() => {
    if (reconnects > 0) refetch();
  }, [reconnects, refetch]);

  if (!live) return response;
  const data = shown.base === result.data ? shown.data : state.current.data;
  return [{ ...result, data }, reexecute];
}

/** Re-runs a query when the socket comes back (for queries without a subscription of their own). */
export function useRefetchOnReconnect(refetch: () => void): void {
  const { reconnects } = useSession();
  useEffect(() => {
    if (reconnects > 0) refetch();
  }, [reconnects, refetch]);
}
