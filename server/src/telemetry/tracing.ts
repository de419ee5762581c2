import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";

/**
 * OpenTelemetry traces (docs/operations.md, "Traces"). Off unless an OTLP endpoint is configured
 * with the standard variables; then the SDK (@opentelemetry/sdk-node) is loaded and exports spans
 * over OTLP. When off the SDK is never loaded: the spans below are the API's no-op spans, which
 * record nothing. Spans are made by hand at a few places (no auto-instrumentation, which would
 * cost CPU per SQL statement and per NATS message), and never carry a variable's value or a secret.
 */
export const tracer = trace.getTracer("sluice-server");

/** The OTLP endpoint traces go to, or null when tracing is off. */
export function tracingEndpoint(env: NodeJS.ProcessEnv = process.env): string | null {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return null;
  if ((env.OTEL_TRACES_EXPORTER ?? "").trim().toLowerCase() === "none") return null;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return url || null;
}

export interface Tracing {
  endpoint: string;
  serviceName: string;
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK when an endpoint is configured; null (and nothing loaded) otherwise. The SDK reads
 * the other standard variables itself (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_TRACES_SAMPLER,
 * OTEL_RESOURCE_ATTRIBUTES, headers...). Only traces: no metrics or logs over OTLP (metrics are
 * on /metrics).
 */
export function startTracing(defaultServiceName: string): Tracing | null {
  const endpoint = tracingEndpoint();
  if (!endpoint) return null;
  const serviceName = process.env.OTEL_SERVICE_NAME?.trim() || defaultServiceName;
  // Loaded here and only here, so that a server without tracing never loads it.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require("@opentelemetry/sdk-node") as typeof import("@opentelemetry/sdk-node");
  const { envDetector, hostDetector, osDetector } =
    require("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sdk = new NodeSDK({
    serviceName,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
    // Not the SDK's process detector: it exports the command line, and an agent started with
    // `--token` has its token there.
    resourceDetectors: [envDetector, hostDetector, osDetector],
  });
  sdk.start();
  return { endpoint, serviceName, shutdown: () => sdk.shutdown() };
}

/** Whether any module of the OpenTelemetry SDK is loaded in this process (the API alone is not). */
export function tracingSdkLoaded(): boolean {
  return Object.keys(require.cache).some((file) => /[\\/]@opentelemetry[\\/]sdk-/.test(file));
}

/**
 * Runs `work` in a new active span, ended when it settles; a throw marks the span as an error
 * (with the error's class name only: messages may quote input).
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  options: { kind?: SpanKind; parent?: Context } = {},
): Promise<T> {
  return tracer.startActiveSpan(
    name,
    { attributes, kind: options.kind ?? SpanKind.INTERNAL },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? "Error" });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** NATS headers as a propagation carrier (the `MsgHdrs` of nats.js: get/set/keys). */
interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => {
    // NATS header names keep their case; propagators ask in lower case (`traceparent`).
    const name = carrier.keys().find((k) => k.toLowerCase() === key.toLowerCase());
    const value = name === undefined ? "" : carrier.get(name);
    return value === "" ? undefined : value;
  },
};
const headerSetter: TextMapSetter<HeaderCarrier> = { set: (carrier, key, value) => carrier.set(key, value) };

/** Writes the trace context (`traceparent`, `tracestate`) of `ctx` into NATS headers. */
export function injectTraceHeaders(headers: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, headerSetter);
}

/** The trace context that NATS headers carry (the active one when they carry none). */
export function extractTraceHeaders(headers: HeaderCarrier | undefined): Context {
  return headers ? propagation.extract(context.active(), headers, headerGetter) : context.active();
}

/**
 * A trace context as stored with an outbox row (persistence: `outbox.traceparent`,
 * `outbox.tracestate`): the W3C Trace Context fields only, never baggage or anything else a
 * propagator may write.
 */
export interface StoredTraceContext {
  traceparent: string;
  tracestate: string | null;
}

/** The active span's trace context to store, or null when there is none (tracing off). */
export function currentTraceContext(ctx: Context = context.active()): StoredTraceContext | null {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const traceparent = carrier.traceparent;
  if (!traceparent) return null;
  return { traceparent, tracestate: carrier.tracestate || null };
}

/** The context a stored trace context names (a remote parent), for the spans that carry it on. */
export function storedTraceContext(stored: StoredTraceContext): Context {
  const carrier: Record<string, string> = { traceparent: stored.traceparent };
  if (stored.tracestate) carrier.tracestate = stored.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

export { context, SpanKind, SpanStatusCode, trace, type Context, type Span };
