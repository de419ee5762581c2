"use client";

import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { useCallback, useEffect, useRef } from "react";
import { useQuery, useSubscription, type AnyVariables, type UseQueryResponse } from "urql";
import { useSession } from "./Providers";

/**
 * A query kept live by a subscription: every event the subscription delivers fetches the query
 * again (events arriving together are coalesced into one fetch, and none is lost while a fetch
 * runs), and so does the socket coming back after a loss. No timer asks the server anything.
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
  /** Called with each event before the refetch; return false to skip the refetch. */
  onEvent?: (event: Event) => boolean | void;
  /**
   * No subscription while this says so of the query's data: for one the server completes
   * (executionEvents ends when the execution is final). When it no longer does (a retry resumed
   * the execution), a new subscription starts.
   */
  pauseSubscriptionWhen?: (data: Data | undefined) => boolean;
}): UseQueryResponse<Data, Variables> {
  const response = useQuery({ query: args.query, variables: args.variables });
  const [result, reexecute] = response;
  const refetch = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);

  // Coalesce: one fetch at a time, and one more after it when events came in meanwhile.
  const pending = useRef(false);
  const fetching = result.fetching;
  const schedule = useCallback(() => {
    if (fetching) pending.current = true;
    else refetch();
  }, [fetching, refetch]);
  useEffect(() => {
    if (!fetching && pending.current) {
      pending.current = false;
      refetch();
    }
  }, [fetching, refetch]);

  const onEvent = args.onEvent;
  const scheduleRef = useRef(schedule);
  scheduleRef.current = schedule;
  useSubscription(
    {
      query: args.subscription,
      variables: args.subscriptionVariables,
      pause: args.pauseSubscriptionWhen?.(result.data) ?? false,
    },
    (_previous, event: Event) => {
      if (onEvent?.(event) !== false) scheduleRef.current();
      return event;
    },
  );

  const { reconnects } = useSession();
  useEffect(() => {
    if (reconnects > 0) refetch();
  }, [reconnects, refetch]);

  return response;
}

/** Re-runs a query when the socket comes back (for queries without a subscription of their own). */
export function useRefetchOnReconnect(refetch: () => void): void {
  const { reconnects } = useSession();
  useEffect(() => {
    if (reconnects > 0) refetch();
  }, [reconnects, refetch]);
}
