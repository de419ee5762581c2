import "reflect-metadata";
import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import cors from "cors";
import express from "express";
import type { ExecutionResult, GraphQLFormattedError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type { DataSource } from "typeorm";
import { WebSocketServer } from "ws";
import { Authenticator, connectionCredential } from "./auth/authenticate";
import { ConnectionRegistry } from "./auth/connections";
import { AccountService } from "./auth/account-service";
import { IdentityService } from "./auth/identity-service";
import { PasswordSignIn } from "./auth/password-sign-in";
import { IdentityStore } from "./persistence/identity-store";
import { AccountStore } from "./persistence/account-store";
import { PasswordStore } from "./persistence/password-store";
import { OidcSignIn } from "./auth/oidc-sign-in";
import { OidcStore } from "./persistence/oidc-store";
import { signInRoutes } from "./http/sign-in";
import { ExecutionReads, resourceLookups } from "./engine/resource-lookups";
import type { Config } from "./config";
import { systemClock, type Clock } from "./engine/clock";
import { ExecutionEngine } from "./engine/execution-engine";
import { PipelineDefinitions } from "./engine/pipeline-definitions";
import { InstallationArchives } from "./engine/installation-archive";
import { VERSION } from "./version";
import { Scheduler } from "./engine/scheduler";
import { SourcePoller } from "./engine/source-poller";
import { TimerLoop } from "./engine/timer-loop";
import type { GraphQLContext } from "./graphql/context";
import { createErrorFormatter } from "./graphql/errors";
import { requestLimitErrors } from "./graphql/limits";
import { createSchema } from "./graphql/schema";
import { socketOperation } from "./graphql/socket-operation";
import { graphqlSse } from "./graphql/sse";
import { socketDelivery } from "./graphql/socket-delivery";
import { DIRECT_DELIVERY, SubscriptionHub, type DirectDelivery } from "./graphql/subscription-hub";
import { artifactRoutes } from "./http/artifacts";
import { errorHandler, notFound } from "./http/errors";
import { graphqlGuard } from "./graphql/http-guard";
import { healthRoutes } from "./http/health";
import { httpMetrics, metricsRoutes } from "./http/metrics";
import { requestLogging } from "./http/request-log";
import { versionRoutes } from "./http/version";
import { jobArtifactRoutes } from "./http/job-artifacts";
import { JobEventSignals } from "./engine/job-event-signals";
import { natsCredentialRoutes } from "./http/nats-credentials";
import { graphiqlRoutes } from "./http/graphiql";
import { securityHeaders } from "./http/security-headers";
import { readTlsMaterial, type TlsMaterial } from "./http/tls";
import { webhookRoutes } from "./http/webhooks";
import type { Logger } from "./logger";
import { reasonOf, StartupError, withoutCredentials } from "./startup-error";
import { DEFAULT_POOL, isTransientNatsError } from "@sluice/protocol";
import { OPERATION_RECORD, operationPlugin, type OperationContext } from "./metrics/graphql-plugin";
import { ServerMetrics } from "./metrics/server-metrics";
import { graphqlSpans } from "./telemetry/graphql-spans";
import { RefusedReads } from "./auth/refused-reads";
import { AgentGateway } from "./messaging/agent-gateway";
import { EventFanout } from "./messaging/event-fanout";
import { LogReader } from "./messaging/log-reader";
import { claimPrefix, InstallationConflictError } from "./messaging/installation-claim";
import { ensureJetStream } from "./messaging/jetstream-setup";
import { NatsLink } from "./messaging/nats";
import { NatsAuth } from "./messaging/nats-auth";
import { NatsIdentity } from "./messaging/nats-identity";
import { MessageSigner } from "./messaging/message-signer";
import { OutboxRelay } from "./messaging/outbox-relay";
import { ResultsConsumer } from "./messaging/results-consumer";
import { ResultsProgress } from "./messaging/results-progress";
import { RetentionJob } from "./messaging/retention";
import { RetentionStore } from "./persistence/retention-store";
import { AgentStore } from "./persistence/agent-store";
import { AuditStore } from "./persistence/audit-store";
import { OutboxStore } from "./persistence/outbox-store";
import { ScheduleStore } from "./persistence/schedule-store";
import { SourcePollStore } from "./persistence/source-poll-store";
import { installationIdOf } from "./persistence/installation";
import { encryptInstallationSecrets, leaseKeyOf } from "./persistence/installation-secrets";
import { MasterKeyring, SecretVault } from "./persistence/secret-vault";
import { SecretStore } from "./persistence/secret-store";
import { SecretReferences } from "./engine/secret-references";
import { SigningKeyStore } from "./persistence/signing-key-store";
import { createRegistry } from "./domain/action-types/builtins";
import { JobLeases } from "./engine/job-leases";
import { LeaseTokens } from "./engine/lease-tokens";
import { openDatabase } from "./persistence/data-source";
import { WebhookStore } from "./persistence/webhook-store";
import { PipelineStore } from "./persistence/pipeline-store";
import { NotificationStore } from "./persistence/notification-store";
import { DeliveryWorker } from "./notifications/delivery-worker";
import { NotificationService } from "./notifications/notification-service";
import type { PipelineEvent } from "./domain/execution";

export interface SluiceServer {
  url: string;
  port: number;
  db: DataSource;
  engine: ExecutionEngine;
  /** The retention job (SLUICE_RETENTION_*); `runOnce()` runs a round now. */
  retention: RetentionJob;
  /**
   * Refused queries and subscriptions counted for the audit log; `flush()` writes the window's
   * rows now (the periodic flush and the shutdown call it too).
   */
  refusedReads: RefusedReads;
  /** Resolves once the JetStream streams, the results consumer and the event fan-out run. */
  messagingReady: Promise<void>;
  /** The consumer of agents' results (`stop()` and `start()` pause it: results wait in JetStream). */
  results: ResultsConsumer;
  /** What starts executions on the pipelines' schedules (`roundsDone` counts its rounds). */
  scheduler: Scheduler;
  /** What fires durable timers (approval and action timeouts, leases; `roundsDone` counts its rounds). */
  timers: TimerLoop;
  /** Why NATS could not be reached the last time it was tried; null once connected. */
  natsProblem(): string | null;
  /** Stops accepting, finishes in-flight requests, closes subscriptions, then NATS and the database. */
  stop(): Promise<void>;
  /**
   * Reads SLUICE_TLS_CERT_FILE and SLUICE_TLS_KEY_FILE again and serves them to new connections
   * (SIGHUP); false without HTTPS. Throws, keeping the current pair, when the new files are not usable.
   */
  reloadTls(): boolean;
}

export interface StartOptions {
  config: Config;
  adminToken: string;
  logger: Logger;
  clock?: Clock;
}

export async function startServer({
  config,
  adminToken,
  logger,
  clock = systemClock,
}: StartOptions): Promise<SluiceServer> {
  let tlsMaterial: TlsMaterial | null = null;
  if (config.tls) {
    try {
      tlsMaterial = readTlsMaterial(config.tls);
    } catch (error) {
      throw new StartupError(reasonOf(error), { cause: error });
    }
  }
  const db = await openDatabase({
    url: config.databaseUrl,
    pgliteDir: `${config.dataDir}/pglite`,
    queryTimeoutMs: config.dbQueryTimeoutMs,
  }).catch((error: unknown) => {
    const where = config.databaseUrl ? withoutCredentials(config.databaseUrl) : `PGlite in ${config.dataDir}`;
    throw new StartupError(`cannot open the database (${where}): ${reasonOf(error)}`, { cause: error });
  });
  let keyring: MasterKeyring;
  try {
    keyring = new MasterKeyring({ ...config.masterKey, dataDir: config.dataDir });
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(`cannot read the master key: ${reasonOf(error)}`, { cause: error });
  }
  if (keyring.generated)
    logger.warn({ file: keyring.file }, "generated a master key for secret values; back it up");
  const vault = new SecretVault(db, keyring);
  // Installations from before encryption at rest: their clear secret values, encrypted once.
  const encrypted = await vault.encryptExisting(
    createRegistry(await new PipelineStore(db).customActionTypes()),
  );
  if (encrypted > 0) logger.info({ rows: encrypted }, "encrypted the secret values stored in clear");
  // Webhook secrets, notification target credentials and the lease key: encrypted too.
  let leaseKey: string;
  try {
    const sealed = await encryptInstallationSecrets(db, vault);
    if (sealed > 0) logger.info({ rows: sealed }, "encrypted the installation's secrets stored in clear");
    leaseKey = await leaseKeyOf(db, vault);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(
      `cannot open the installation's lease key: ${reasonOf(error)}. Every server copy of an installation needs its master key (SLUICE_MASTER_KEY, or the same key file: SLUICE_MASTER_KEY_FILE).`,
      { cause: error },
    );
  }
  const leaseTokens = new LeaseTokens(leaseKey);
  const secretStore = new SecretStore(db, vault);
  const secretReferences = new SecretReferences(secretStore, vault);
  // The key that signs jobs and cancels (PROTOCOL.md 11.5), shared by every copy, encrypted at rest.
  const signingKeys = new SigningKeyStore(db, vault);
  const signing = await signingKeys.current();
  if (signing.created)
    logger.info({ publicKey: signing.key.publicKey }, "made the key that signs messages to agents");
  const signer = new MessageSigner(signing.key, signingKeys);
  const agents = new AgentStore(db);
  let natsAuth: NatsAuth | null = null;
  if (config.natsInsecure) {
    logger.warn(
      "SLUICE_NATS_INSECURE=1: NATS without authentication; whoever reaches it can publish jobs and results",
    );
  } else {
    let identity: NatsIdentity;
    try {
      identity = NatsIdentity.loadOrCreate(config.dataDir);
    } catch (error) {
      throw new StartupError(reasonOf(error), { cause: error });
    }
    natsAuth = new NatsAuth(
      identity,
      agents,
      config.natsUrl,
      config.natsPrefix,
      logger,
      config.natsCredentialsSeconds,
      config.natsCaFile,
    );
  }
  const auth = natsAuth;
  const nats = new NatsLink(
    config.natsUrl,
    config.natsPrefix,
    logger,
    config.natsReplicas,
    auth ? () => auth.serverAuthenticator() : undefined,
    // A nats-server that was away may have missed a revocation.
    auth ? () => auth.pushAccount() : undefined,
    config.natsCaFile,
  );
  const metricSources = {
    db,
    nats,
    natsPrefix: config.natsPrefix,
    defaultPool: DEFAULT_POOL,
    subscriptions: () => 0,
    webSockets: () => 0,
  };
  // SLUICE_METRICS=0: nothing is collected (no registry, no timers, no event-loop monitor).
  const metrics = config.metrics ? new ServerMetrics(metricSources) : null;
  const relay = new OutboxRelay(new OutboxStore(db), nats, logger, signer);
  // Missing events of an execution (published out of order by two copies) come from its history.
  const events = new EventFanout(nats, config.natsPrefix, logger, (executionId, after) =>
    engine.executions.eventsOf<PipelineEvent>(executionId, after),
  );
  const jobEvents = new JobEventSignals(events);
  const notificationStore = new NotificationStore(db, vault);
  const notifier = new DeliveryWorker(
    db,
    notificationStore,
    nats,
    config.natsPrefix,
    config.notifications,
    logger,
  );
  const engine = new ExecutionEngine(
    db,
    clock,
    {
      natsPrefix: config.natsPrefix,
      heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
      leaseSeconds: config.leaseSeconds,
      leaseTokens,
    },
    {
      committed: (messages) => {
        if (config.outboxDirect) relay.sendCommitted(messages);
        else relay.kick();
        notifier.kick();
      },
      decided: (decision, account) => {
        metrics?.decided(decision, account);
        // Requests waiting for an accept this decision applied go on now.
        jobEvents.decided(decision);
      },
    },
    logger,
  );
  const agentGateway = new AgentGateway(
    nats,
    config.natsPrefix,
    agents,
    { heartbeatIntervalSeconds: config.heartbeatIntervalSeconds, natsReplicas: config.natsReplicas },
    logger,
    { vault, leaseTokens, store: new PipelineStore(db), secretStore, jobEvents },
    signer,
    natsAuth,
  );
  const results = new ResultsConsumer(nats, config.natsPrefix, engine, leaseTokens, logger, signer, (size) =>
    metrics?.resultsBatchSize.observe(size),
  );
  const timers = new TimerLoop(engine, new ResultsProgress(nats, config.natsPrefix), logger);
  const identityStore = new IdentityStore(db);
  // The first start's admin user, whom the admin token authenticates as (auth/authenticate.ts).
  await identityStore.ensureAdmin();
  const authenticator = new Authenticator(identityStore, adminToken, config.metricsToken);
  const connections = new ConnectionRegistry(authenticator, logger);
  connections.start();
  const identity = new IdentityService(identityStore, authenticator, connections);
  const accountStore = new AccountStore(db);
  const accounts = new AccountService(accountStore, identity, {
    store: new RetentionStore(db),
    installation: config.retention,
  });
  const passwords = new PasswordSignIn(new PasswordStore(db), identityStore, authenticator, connections, {
    sessionTtlMs: config.sessionTtlMs,
  });
  // OpenID Connect single sign-on (SLUICE_OIDC_*), when configured.
  const oidcSignIn = config.oidc
    ? new OidcSignIn(config.oidc, {
        flows: new OidcStore(db),
        identity: identityStore,
        audit: new AuditStore(db),
        authenticator,
        logger,
        publicUrl: config.publicUrl,
        sessionTtlMs: config.sessionTtlMs,
      })
    : null;
  oidcSignIn?.warmUp();
  // Refused queries, subscriptions and HTTP reads, counted for the audit log (within a budget).
  const refusedReads = new RefusedReads(new AuditStore(db), config.refusalWindowMs, logger);
  const routeAuth = {
    authenticator,
    lookups: resourceLookups(engine, identityStore, accountStore),
    refusedReads,
  };
  /** What each GraphQL operation's context holds of its own: its lookups and what they read. */
  const perOperation = () => {
    const executionReads = new ExecutionReads();
    return { executionReads, lookups: resourceLookups(engine, identityStore, accountStore, executionReads) };
  };
  const services = {
    definitions: new PipelineDefinitions(
      db,
      { maxPipelines: config.maxPipelines },
      clock,
      vault,
      secretReferences,
      config.natsPrefix,
    ),
    secrets: secretStore,
    vault,
    signer,
    store: new PipelineStore(db),
    engine,
    events,
    agents,
    agentGateway,
    logs: new LogReader(nats, config.natsPrefix),
    webhooks: new WebhookStore(db, vault),
    audit: new AuditStore(db),
    refusedReads,
    identity,
    accounts,
    passwords,
    notifications: new NotificationService(notificationStore, notifier, config.notifications),
    archives: new InstallationArchives(
      db,
      {
        maxPipelines: config.maxPipelines,
        allowHttpTargets: config.notifications.allowHttp,
        allowPrivateTargets: config.notifications.allowPrivate,
        vault,
        references: secretReferences,
        changed: () => {
          poller.markDirty();
          scheduler.markDirty();
        },
      },
      { server: VERSION.server, protocol: VERSION.protocol },
    ),
    publicUrl: config.publicUrl,
  };
  const retention = new RetentionJob(
    db,
    nats,
    config.natsPrefix,
    config.retention,
    config.retentionIntervalMs,
    clock,
    logger,
    (kind, count) => metrics?.retentionDeleted.inc({ kind }, count),
  );
  const poller = new SourcePoller(new SourcePollStore(db), engine, logger);
  const scheduler = new Scheduler(new ScheduleStore(db), engine, clock, logger);
  services.definitions.onCommitted(() => {
    relay.kick();
    notifier.kick();
  });
  services.definitions.onChange(() => {
    poller.markDirty();
    scheduler.markDirty();
  });
  relay.start();
  timers.start();
  poller.start();
  scheduler.start();
  notifier.start();
  retention.start();
  services.refusedReads.start();
  // Streams, the results consumer and the event fan-out need NATS; they start once it answers.
  // Why JetStream could not be set up yet (a NATS cluster electing its leaders), for main.ts.
  let setUpProblem: string | null = null;
  const messagingReady = nats.connected().then(async () => {
    const nc = nats.nats;
    if (!nc) return;
    const replicas = config.natsReplicas;
    // A cluster that just started answers "temporarily unavailable" until its leaders are
    // elected: that passes with time (main.ts gives up after the start-up timeout); anything
    // else (another installation's prefix, replicas the cluster cannot hold) ends the start.
    for (let attempt = 1; ; attempt++) {
      try {
        // One installation per prefix (PROTOCOL.md 4.3): checked before anything else is set up.
        await claimPrefix(nc, config.natsPrefix, await installationIdOf(db), replicas);
        await ensureJetStream(nc, config.natsPrefix, { replicas });
        setUpProblem = null;
        break;
      } catch (error) {
        // Checked by class first: the conflict's message holds ids that may contain "503".
        if (error instanceof InstallationConflictError) throw error;
        if (!isTransientNatsError(error) || nc.isClosed()) throw error;
        setUpProblem = `JetStream set-up: ${(error as Error).message}`;
        if (attempt === 1)
          logger.warn({ err: (error as Error).message }, "JetStream set-up failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * attempt)).unref());
      }
    }
    // The revocations nats-server holds are the database's (a revocation made while it was away).
    await natsAuth
      ?.pushAccount()
      .catch((error: unknown) =>
        logger.error({ err: reasonOf(error) }, "cannot push the NATS account (revocations) to nats-server"),
      );
    events.start();
    agentGateway.start();
    notifier.startListening();
    await results.start();
    relay.kick();
  });
  messagingReady.catch((error: unknown) => logger.error({ err: error }, "NATS set-up failed"));
  const schema = await createSchema();
  const formatError = createErrorFormatter(logger, config.development);
  let shuttingDown = false;

  const app = express();
  app.disable("x-powered-by");
  const httpServer = tlsMaterial ? https.createServer(tlsMaterial, app) : http.createServer(app);

  // Frames above the body limit close the socket (1009) before they are buffered or authenticated.
  const limits = config.requestLimits;
  // noServer: attached to the HTTP server's upgrades only, so that an error of the HTTP server
  // (a port in use) is not re-emitted on the WebSocket server, where graphql-ws prints a stack.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: limits.maxBodyBytes });
  httpServer.on("upgrade", (request, socket, head) => {
    if (new URL(request.url ?? "/", "http://localhost").pathname !== "/graphql") {
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit("connection", ws, request));
  });
  const subscriptions = new SubscriptionHub(undefined, {
    format: (result) => withFormattedErrors(result, formatError),
  });
  metricSources.subscriptions = () => subscriptions.size;
  metricSources.webSockets = () => wsServer.clients.size;
  const wsCleanup = useServer(
    {
      schema,
      // One execution per event for each distinct subscription, shared by its clients.
      subscribe: subscriptions.subscribe,
      // A connection needs a valid token (connectionParams' Authorization in any case, or the upgrade
      // request's Authorization header); otherwise graphql-ws closes it with 4403 Forbidden.
      // The connection is tracked with its credential: it closes when that is revoked or expires.
      onConnect: async (ctx) => {
        const credential = connectionCredential(
          ctx.connectionParams,
          ctx.extra.request.headers.authorization,
        );
        if ((await authenticator.authenticate(credential)) === null) return false;
        const forget = connections.add(ctx.extra.socket, credential);
        ctx.extra.socket.once("close", forget);
        return true;
      },
      context: async (ctx, id): Promise<GraphQLContext & { [DIRECT_DELIVERY]: DirectDelivery }> => {
        const credential = connectionCredential(
          ctx.connectionParams,
          ctx.extra.request.headers.authorization,
        );
        const requestId = crypto.randomUUID();
        return {
          ...services,
          ...perOperation(),
          principal: await authenticator.authenticate(credential),
          requestId,
          logger: logger.child({ requestId }),
          [DIRECT_DELIVERY]: socketDelivery(ctx.extra.socket, id, logger),
        };
      },
      // Parsed, validated and held to the same limits as over HTTP (graphql/limits.ts); a bad
      // operation errors alone instead of closing the socket.
      onSubscribe: (_ctx, _id, payload) => socketOperation(schema, limits, payload),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
      onNext: (_ctx, _id, _payload, _args, result) =>
        withFormattedErrors(result as ExecutionResult, formatError),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: config.development,
    introspection: true,
    // main.ts owns the signals: it stops Apollo, then NATS and the database, then exits.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.maxTokens },
    // A query over GET (urql's default) is let through when it carries a header a browser cannot
    // send cross-site without a preflight: Apollo's own two, or Authorization (the bearer token).
    // Mutations over GET stay refused (405) whatever the headers.
    csrfPrevention: {
      requestHeaders: ["x-apollo-operation-name", "apollo-require-preflight", "authorization"],
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Its landing page loads from Apollo's CDN and Google Fonts: GraphiQL is served locally instead.
      ApolloServerPluginLandingPageDisabled(),
      operationPlugin(metrics),
      {
        // Refuses an operation above the request limits (graphql/limits.ts), before it runs.
        async requestDidStart() {
          return {
            async didResolveOperation({ request, document }) {
              const [error] = requestLimitErrors(
                schema,
                document,
                request.operationName,
                request.variables,
                limits,
              );
              if (error) throw error;
            },
          };
        },
      },
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.use(requestLogging(logger, authenticator));
  app.use(securityHeaders());
  if (metrics) app.use(httpMetrics(metrics));
  app.use(healthRoutes(db, nats, () => shuttingDown));
  app.use(artifactRoutes(routeAuth, engine, nats, config.natsPrefix, logger));
  app.use(webhookRoutes(db, engine, logger, vault));
  if (metrics) app.use(metricsRoutes(routeAuth, metrics, { public: config.metricsPublic }, logger));
  app.use(versionRoutes(routeAuth));
  app.use(natsCredentialRoutes(agents, natsAuth, services.audit, logger, signer, services.refusedReads));
  app.use(
    jobArtifactRoutes(
      agents,
      new JobLeases(new PipelineStore(db), leaseTokens),
      nats,
      config.natsPrefix,
      services.audit,
      logger,
      services.refusedReads,
      jobEvents,
    ),
  );
  app.use(graphiqlRoutes());
  app.use(
    signInRoutes(
      oidcSignIn,
      {
        dashboardUrl: config.notifications.dashboardUrl,
        secureCookies: config.publicUrl.startsWith("https:"),
      },
      logger,
    ),
  );
  app.use(
    "/graphql",
    cors(),
    express.json({ limit: limits.maxBodyBytes }),
    // GraphQL over SSE (Accept: text/event-stream) before Apollo, which would answer 406.
    graphqlSse({
      schema,
      limits,
      authenticate: (header) => authenticator.authenticate(header),
      track: (connection, credential) => connections.add(connection, credential),
      context: (principal, requestId) => ({
        ...services,
        ...perOperation(),
        principal,
        requestId,
        logger: logger.child({ requestId }),
      }),
      subscribe: subscriptions.subscribe,
      format: (result) => withFormattedErrors(result, formatError),
      logger,
    }),
    graphqlGuard(limits),
    // A span per operation, active while Apollo runs it (a no-op when tracing is off).
    graphqlSpans(),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<GraphQLContext & OperationContext> => {
        const requestId = String(res.getHeader("x-request-id"));
        // Filled by operationPlugin: the request's log line and metrics name the operation.
        res.locals.operation = {};
        return {
          [OPERATION_RECORD]: res.locals.operation,
          ...services,
          ...perOperation(),
          principal: await authenticator.authenticate(req.headers.authorization),
          requestId,
          logger: logger.child({ requestId }),
        };
      },
    }),
  );

  app.use(
    notFound({
      "/graphql": ["GET", "HEAD", "POST", "OPTIONS"],
      "/webhooks": ["POST"],
      "/artifacts": ["GET", "HEAD"],
      "/auth": ["GET", "HEAD", "OPTIONS"],
    }),
  );
  app.use(errorHandler(logger));

  const stopAll = async () => {
    shuttingDown = true;
    connections.stop();
    await apollo.stop();
    await timers.stop();
    await poller.stop();
    await scheduler.stop();
    await retention.stop();
    await services.refusedReads.stop();
    await results.stop();
    await notifier.stop();
    agentGateway.stop();
    events.stop();
    await relay.stop();
    signer.stop();
    await nats.close();
    await db.destroy();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    await stopAll().catch(async () => {
      // Apollo cannot drain a server that never listened: close the rest regardless.
      await nats.close().catch(() => undefined);
      if (db.isInitialized) await db.destroy().catch(() => undefined);
    });
    const code = (error as { code?: string }).code;
    throw new StartupError(
      code === "EADDRINUSE"
        ? `port ${config.port} on ${config.host} is already in use (PORT, SLUICE_HOST)`
        : `cannot listen on ${config.host}:${config.port}: ${reasonOf(error)}`,
      { cause: error },
    );
  }
  // A key another copy rotated in signs here too within REFRESH_MS.
  signer.start(undefined, (error) =>
    logger.warn({ err: reasonOf(error) }, "cannot look for a rotated signing key now"),
  );
  const port = (httpServer.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;

  return {
    url: `${config.tls ? "https" : "http"}://${host}:${port}/graphql`,
    reloadTls() {
      if (!config.tls || !(httpServer instanceof https.Server)) return false;
      httpServer.setSecureContext(readTlsMaterial(config.tls));
      return true;
    },
    port,
    db,
    engine,
    retention,
    refusedReads: services.refusedReads,
    messagingReady,
    results,
    scheduler,
    timers,
    natsProblem: () => nats.lastError ?? setUpProblem,
    stop: stopAll,
  };
}

function withFormattedErrors(
  result: ExecutionResult,
  format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
): ExecutionResult {
  if (!result.errors) return result;
  return { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } as unknown as ExecutionResult;
}
