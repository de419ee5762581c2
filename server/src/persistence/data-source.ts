import fs from "node:fs";
import path from "node:path";
import { DataSource, type DataSourceOptions } from "typeorm";
import { CustomActionTypeEntity } from "./entities/custom-action-type.entity";
import { PipelineVersionEntity } from "./entities/pipeline-version.entity";
import { PipelineEntity } from "./entities/pipeline.entity";
import { Initial1764000000000 } from "./migrations/1764000000000-Initial";
import { Executions1764100000000 } from "./migrations/1764100000000-Executions";
import { Agents1764200000000 } from "./migrations/1764200000000-Agents";
import { Webhooks1764300000000 } from "./migrations/1764300000000-Webhooks";
import { SourcePolls1764400000000 } from "./migrations/1764400000000-SourcePolls";
import { Schedules1764500000000 } from "./migrations/1764500000000-Schedules";
import { Audit1764600000000 } from "./migrations/1764600000000-Audit";
import { Installation1764700000000 } from "./migrations/1764700000000-Installation";
import { LeaseKey1764800000000 } from "./migrations/1764800000000-LeaseKey";
import { WebhookDeliveries1764810000000 } from "./migrations/1764810000000-WebhookDeliveries";
import { Notifications1765900000000 } from "./migrations/1765900000000-Notifications";
import { Retention1766000000000 } from "./migrations/1766000000000-Retention";
import { Identity1766010000000 } from "./migrations/1766010000000-Identity";
import { Secrets1766020000000 } from "./migrations/1766020000000-Secrets";
import { AgentNatsUsers1766110000000 } from "./migrations/1766110000000-AgentNatsUsers";
import { MessageSigningKeys1767000000000 } from "./migrations/1767000000000-MessageSigningKeys";
import { SecretStore1767100000000 } from "./migrations/1767100000000-SecretStore";
import { Accounts1767300000000 } from "./migrations/1767300000000-Accounts";
import { ApproverNotifications1767400000000 } from "./migrations/1767400000000-ApproverNotifications";
import { Passwords1767200000000 } from "./migrations/1767200000000-Passwords";
import { OidcSignIn1767500000000 } from "./migrations/1767500000000-OidcSignIn";
import { PipelineTags1767600000000 } from "./migrations/1767600000000-PipelineTags";
import { AccountRetention1767700000000 } from "./migrations/1767700000000-AccountRetention";
import { OutboxTraceContext1767710000000 } from "./migrations/1767710000000-OutboxTraceContext";
import { AuditOccurrences1767720000000 } from "./migrations/1767720000000-AuditOccurrences";
import { ExecutionRecords1767900000000 } from "./migrations/1767900000000-ExecutionRecords";
import { AccountPipelines1768000000000 } from "./migrations/1768000000000-AccountPipelines";
import { AccountSecrets1768000000001 } from "./migrations/1768000000001-AccountSecrets";
import { AccountNotifications1768000000002 } from "./migrations/1768000000002-AccountNotifications";
import { TypedOutbox1768030000000 } from "./migrations/1768030000000-TypedOutbox";
import { ExecutionCounts1768040000000 } from "./migrations/1768040000000-ExecutionCounts";

export const entities = [PipelineEntity, PipelineVersionEntity, CustomActionTypeEntity];
export const migrations = [
  Initial1764000000000,
  Executions1764100000000,
  Agents1764200000000,
  Webhooks1764300000000,
  SourcePolls1764400000000,
  Schedules1764500000000,
  Audit1764600000000,
  Installation1764700000000,
  LeaseKey1764800000000,
  WebhookDeliveries1764810000000,
  Notifications1765900000000,
  Retention1766000000000,
  Identity1766010000000,
  Secrets1766020000000,
  AgentNatsUsers1766110000000,
  MessageSigningKeys1767000000000,
  SecretStore1767100000000,
  Accounts1767300000000,
  ApproverNotifications1767400000000,
  Passwords1767200000000,
  OidcSignIn1767500000000,
  PipelineTags1767600000000,
  AccountRetention1767700000000,
  OutboxTraceContext1767710000000,
  AuditOccurrences1767720000000,
  ExecutionRecords1767900000000,
  AccountPipelines1768000000000,
  AccountSecrets1768000000001,
  AccountNotifications1768000000002,
  TypedOutbox1768030000000,
  ExecutionCounts1768040000000,
];

export interface DatabaseOptions {
  /** PostgreSQL URL; undefined selects embedded PGlite. */
  url: string | undefined;
  /** Where PGlite keeps its files (ignored with a URL); "memory://" keeps them in memory. */
  pgliteDir: string;
  /** Longest a statement may run (default 30 s). */
  queryTimeoutMs?: number;
}

/**
 * The session-level advisory lock held while the migrations run: server copies that start together
 * on a new database would otherwise run the same migration at once, and all but one would fail.
 */
export const MIGRATIONS_LOCK = 736_411_000;

/**
 * Opens the database and brings its schema up to date with the migrations (never `synchronize`).
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const common = { entities, migrations, migrationsRun: false, synchronize: false, logging: false } as const;
  let config: DataSourceOptions;
  if (options.url) {
    config = {
      ...common,
      type: "postgres",
      url: options.url,
      // A database that accepts connections but stops answering (frozen, or a network that drops
      // packets) must not hang requests for ever: the server ends a statement after
      // queryTimeoutMs, and the client gives up a second later, so the request fails UNAVAILABLE.
      extra: {
        max: 10,
        connectionTimeoutMillis: 5000,
        statement_timeout: options.queryTimeoutMs ?? 30_000,
        query_timeout: (options.queryTimeoutMs ?? 30_000) + 1000,
      },
    };
  } else {
    // typeorm-pglite keeps one PGlite per process; it is loaded lazily so that a server on
    // PostgreSQL never pays for the WASM module.
    const { PGliteDriver } = await import("typeorm-pglite");
    const dataDir = options.pgliteDir === "memory://" ? undefined : path.resolve(options.pgliteDir);
    if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
    config = {
      ...common,
      type: "postgres",
      // uuid-ossp is not in PGlite; the migrations use gen_random_uuid() instead.
      installExtensions: false,
      driver: new PGliteDriver(dataDir ? { dataDir } : {}).driver,
    };
  }
  const dataSource = new DataSource(config);
  await dataSource.initialize();
  if (options.url) await migrateLocked(dataSource);
  else await dataSource.runMigrations({ transaction: "each" }); // PGlite: one process only
  return dataSource;
}

/** One server copy at a time migrates; the next finds nothing left to do. */
async function migrateLocked(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock($1)`, [MIGRATIONS_LOCK]);
    try {
      await dataSource.runMigrations({ transaction: "each" });
    } finally {
      await runner.query(`SELECT pg_advisory_unlock($1)`, [MIGRATIONS_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
