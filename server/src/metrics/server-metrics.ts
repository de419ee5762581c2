import { jetstreamManager } from "@nats-io/jetstream";
import { natsNames } from "@sluice/protocol";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DataSource } from "typeorm";
import type { Decision, ExecutionState, PipelineEvent } from "../domain/execution";
import type { NatsLink } from "../messaging/nats";
import { readDatabaseFigures, type DatabaseFigures } from "../persistence/metrics-reads";

/** How long one read of the database figures serves scrapes: several Prometheis, one query. */
const FIGURES_TTL_MS = 2000;
/** Distinct GraphQL operation names kept as label values; later ones count as "other". */
const MAX_OPERATION_NAMES = 100;

export interface MetricSources {
  db: DataSource;
  nats: NatsLink;
  natsPrefix: string;
  defaultPool: string;
  /** Distinct GraphQL subscriptions open (the hub shares one among identical ones). */
  subscriptions: () => number;
  webSockets: () => number;
}

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ACTION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/**
 * The server's Prometheus metrics, one Registry per app (several servers in one process, as in
 * tests, keep their own). Figures that the database holds for every server copy (executions,
 * attempts, agents, outbox, timers) are read at scrape time; what only this copy sees (requests,
 * the decisions it made) is counted as it happens. Labels stay low-cardinality: pipeline names
 * (bounded by SLUICE_MAX_PIPELINES), pools, providers, statuses; never execution ids.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<"method" | "route" | "status">;
  readonly graphqlDuration: Histogram<"operation" | "type" | "outcome">;
  readonly dispatchLatency: Histogram<"account" | "pool" | "provider">;
  readonly actionDuration: Histogram<"account" | "pool" | "provider" | "outcome">;
  readonly executionsFinished: Counter<"account" | "pipeline" | "status">;
  readonly retentionDeleted: Counter<"kind">;
  readonly resultsBatchSize: Histogram;
  private figures: { at: number; value: Promise<DatabaseFigures> } | null = null;
  private readonly operationNames = new Set<string>();

  constructor(private readonly sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: "sluice_http_request_duration_seconds",
      help: "HTTP requests by method, route (its first path segment) and status code",
      labelNames: ["method", "route", "status"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: "sluice_graphql_operation_duration_seconds",
      help: "GraphQL operations over HTTP by operation name, type and outcome (ok or the error code)",
      labelNames: ["operation", "type", "outcome"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.dispatchLatency = new Histogram({
      name: "sluice_action_dispatch_latency_seconds",
      help: "From an attempt's dispatch to an agent taking it, by account, pool and provider",
      labelNames: ["account", "pool", "provider"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.actionDuration = new Histogram({
      name: "sluice_action_duration_seconds",
      help: "From an agent taking an attempt to its end, by account, pool, provider and outcome",
      labelNames: ["account", "pool", "provider", "outcome"],
      buckets: ACTION_BUCKETS,
      registers,
    });
    this.executionsFinished = new Counter({
      name: "sluice_executions_finished_total",
      help: "Executions this server copy brought to a final status, by account, pipeline and status",
      labelNames: ["account", "pipeline", "status"],
      registers,
    });
    this.resultsBatchSize = new Histogram({
      name: "sluice_results_batch_size",
      help: "Agent results the results consumer applied together (group commit: one transaction per pipeline of a batch)",
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    this.retentionDeleted = new Counter({
      name: "sluice_retention_deleted_total",
      help: "What this server copy's retention job deleted, by kind (executions, logSubjects, artifacts, auditEvents, notificationDeliveries, webhookDeliveries)",
      labelNames: ["kind"],
      registers,
    });
    this.databaseGauges(registers);
    this.processGauges(registers);
  }

  /** The engine's commit listener hook: dispatch latency, durations and finished executions. */
  decided(decision: Decision, account: string): void {
    for (const effect of decision.effects) {
      if (effect.type !== "Event" || !effect.event.executionId) continue;
      const execution = decision.runtime.executions[effect.event.executionId];
      if (execution) this.observe(effect.event, execution, account);
    }
  }

  /** A GraphQL operation name as a label value: at most MAX_OPERATION_NAMES distinct ones. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return "anonymous";
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES || !/^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name))
      return "other";
    this.operationNames.add(name);
    return name;
  }

  private observe(event: PipelineEvent, execution: ExecutionState, account: string): void {
    if (
      event.type.startsWith("EXECUTION_") &&
      ["Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"].includes(String(event.status))
    ) {
      this.executionsFinished.inc({ account, pipeline: event.pipelineName, status: String(event.status) });
      return;
    }
    if (!event.actionExecutionId || !event.stageName || !event.actionName) return;
    const stageIndex = execution.stages.findIndex((s) => s.stageName === event.stageName);
    const attempt = execution.stages[stageIndex]?.actions
      .find((a) => a.actionName === event.actionName)
      ?.attempts.find((a) => a.actionExecutionId === event.actionExecutionId);
    const declared = execution.document.stages[stageIndex]?.actions.find((a) => a.name === event.actionName);
    if (!attempt || !declared) return;
    const labels = {
      account,
      pool: declared.region ?? this.sources.defaultPool,
      provider: declared.actionTypeId.provider,
    };
    const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
    if (event.type === "ACTION_STARTED" && attempt.startTime) {
      this.dispatchLatency.observe(labels, seconds(attempt.queuedAt, attempt.startTime));
    } else if (
      (event.type === "ACTION_SUCCEEDED" ||
        event.type === "ACTION_FAILED" ||
        event.type === "ACTION_ABANDONED") &&
      attempt.startTime &&
      attempt.endTime &&
      !attempt.approval
    ) {
      this.actionDuration.observe(
        { ...labels, outcome: attempt.status },
        seconds(attempt.startTime, attempt.endTime),
      );
    }
  }

  /** The database figures, read at most once per FIGURES_TTL_MS whatever the number of gauges. */
  private databaseFigures(): Promise<DatabaseFigures> {
    const now = Date.now();
    if (!this.figures || now - this.figures.at > FIGURES_TTL_MS) {
      const value = readDatabaseFigures(this.sources.db, this.sources.defaultPool);
      value.catch(() => (this.figures = null)); // a failed read is not cached
      this.figures = { at: now, value };
    }
    return this.figures.value;
  }

  private databaseGauges(registers: Registry[]): void {
    const figures = () => this.databaseFigures();
    new Gauge({
      name: "sluice_executions",
      help: "Pipeline executions in the database, by account, pipeline and status",
      labelNames: ["account", "pipeline", "status"],
      registers,
      async collect() {
        this.reset();
        for (const r of (await figures()).executions)
          this.set({ account: r.account, pipeline: r.pipeline, status: r.status }, r.count);
      },
    });
    new Gauge({
      name: "sluice_actions",
      help: "Action attempts not final, by account, pool, provider and state (queued, running, awaiting_approval)",
      labelNames: ["account", "pool", "provider", "state"],
      registers,
      async collect() {
        this.reset();
        for (const r of (await figures()).actions)
          this.set({ account: r.account, pool: r.pool, provider: r.provider, state: r.state }, r.count);
      },
    });
    new Gauge({
      name: "sluice_agents",
      help: "Registered agents by account, pool and status",
      labelNames: ["account", "pool", "status"],
      registers,
      async collect() {
        this.reset();
        for (const r of (await figures()).agents)
          this.set({ account: r.account, pool: r.pool, status: r.status }, r.count);
      },
    });
    new Gauge({
      name: "sluice_outbox_messages",
      help: "Messages committed and not yet relayed to NATS",
      registers,
      async collect() {
        this.set((await figures()).outboxMessages);
      },
    });
    new Gauge({
      name: "sluice_outbox_oldest_message_age_seconds",
      help: "Relay lag: the age of the oldest message waiting in the outbox (0 when empty)",
      registers,
      async collect() {
        this.set((await figures()).outboxOldestSeconds);
      },
    });
    new Gauge({
      name: "sluice_timers_due",
      help: "Timers (timeouts, retries, leases, approvals) whose time has come and that have not fired",
      registers,
      async collect() {
        this.set((await figures()).timersDue);
      },
    });
  }

  private processGauges(registers: Registry[]): void {
    const { sources } = this;
    new Gauge({
      name: "sluice_graphql_subscriptions_open",
      help: "Distinct GraphQL subscriptions open on this server copy",
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });
    new Gauge({
      name: "sluice_websocket_connections",
      help: "GraphQL WebSocket connections open on this server copy",
      registers,
      collect() {
        this.set(sources.webSockets());
      },
    });
    new Gauge({
      name: "sluice_db_pool_connections",
      help: "PostgreSQL connection pool: total, idle, and requests waiting for a connection",
      labelNames: ["state"],
      registers,
      collect() {
        const pool = (sources.db.driver as unknown as { master?: PgPool }).master;
        if (!pool || typeof pool.totalCount !== "number") return; // PGlite has no pool
        this.set({ state: "total" }, pool.totalCount);
        this.set({ state: "idle" }, pool.idleCount);
        this.set({ state: "waiting" }, pool.waitingCount);
      },
    });
    const names = natsNames(sources.natsPrefix);
    new Gauge({
      name: "sluice_results_consumer_pending",
      help: "Agent results in JetStream not yet delivered to the servers (pending) or not yet acknowledged",
      labelNames: ["state"],
      registers,
      async collect() {
        this.reset();
        const nc = sources.nats.nats;
        if (!nc) return;
        try {
          const jsm = await jetstreamManager(nc, { timeout: 1000 });
          const info = await jsm.consumers.info(names.streams.results, names.consumers.engine);
          this.set({ state: "pending" }, info.num_pending);
          this.set({ state: "unacknowledged" }, info.num_ack_pending);
        } catch {
          // NATS unavailable: no figure rather than a wrong one (readyz says why)
        }
      },
    });
  }
}
