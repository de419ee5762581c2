import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { executionArtifactKeyPrefix, natsNames } from "@sluice/protocol";
import type { DataSource } from "typeorm";
import type { Clock } from "../engine/clock";
import { Periodic } from "../engine/periodic";
import type { Logger } from "../logger";
import { RetentionStore, type PurgeRow, type RetentionSettings } from "../persistence/retention-store";
import type { NatsLink } from "./nats";

/** What a round deleted, by kind (the labels of `sluice_retention_deleted_total`). */
export interface RetentionReport {
  /** Another server copy held the round's lock: this one did nothing. */
  skipped: boolean;
  executions: number;
  logSubjects: number;
  artifacts: number;
  auditEvents: number;
  notificationDeliveries: number;
  webhookDeliveries: number;
}

export type RetentionKind = Exclude<keyof RetentionReport, "skipped">;

/** Purge rows handled per round: the object store is listed once for them. */
const PURGE_BATCH = 200;

/**
 * The retention job (SLUICE_RETENTION_*): deletes old executions with their history, logs and
 * artifacts, old audit events, finished notification deliveries and expired webhook replay
 * records, in small batches in the background. One server copy runs a round at a time (an
 * advisory lock); the others skip it. Executions leave the database first, in a transaction that
 * also queues their NATS data (`retention_purges`); that queue is then emptied, so a crash between
 * the two loses track of nothing.
 */
export class RetentionJob extends Periodic {
  private readonly store: RetentionStore;

  constructor(
    db: DataSource,
    private readonly nats: NatsLink,
    private readonly prefix: string,
    private readonly settings: RetentionSettings,
    intervalMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counted: (kind: RetentionKind, count: number) => void = () => undefined,
  ) {
    super(intervalMs);
    this.store = new RetentionStore(db);
  }

  protected async round(): Promise<void> {
    try {
      const report = await this.runOnce();
      if (!report.skipped) this.logger.info({ retention: report }, "retention round");
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "retention round failed; retrying later");
    }
  }

  /** One round now (the periodic rounds call this too). */
  async runOnce(): Promise<RetentionReport> {
    const report: RetentionReport = {
      skipped: false,
      executions: 0,
      logSubjects: 0,
      artifacts: 0,
      auditEvents: 0,
      notificationDeliveries: 0,
      webhookDeliveries: 0,
    };
    const lock = await this.store.tryLock();
    if (!lock) return { ...report, skipped: true };
    try {
      const now = this.clock();
      for (const pipeline of await this.store.pipelinesWithHistory()) {
        const policy = RetentionStore.policyOf(this.settings, pipeline.name, pipeline.accountSetting);
        for (;;) {
          if (this.isStopped) break;
          const deleted = await this.store.deleteExpiredExecutions(pipeline.id, policy, now);
          this.add(report, "executions", deleted);
          if (deleted === 0) break;
        }
      }
      await this.purgeNatsData(report);
      this.add(report, "auditEvents", await this.store.deleteOldAudit(this.settings.auditDays, now));
      this.add(
        report,
        "notificationDeliveries",
        await this.store.deleteOldDeliveries(this.settings.notificationDays, now),
      );
      this.add(report, "webhookDeliveries", await this.store.deleteOldWebhookDeliveries(now));
      return report;
    } finally {
      await this.store.unlock(lock);
    }
  }

  /**
   * Removes the logs (one subject per action execution) and artifacts (`<executionId>/…`) of the
   * executions deleted from the database. Without NATS the queue waits for the next round.
   */
  private async purgeNatsData(report: RetentionReport): Promise<void> {
    const nc = this.nats.nats;
    if (!nc) return;
    const names = natsNames(this.prefix);
    const jsm = await jetstreamManager(nc);
    const bucket = await new Objm(nc).open(names.artifactsBucket);
    for (;;) {
      const purges = await this.store.pendingPurges(PURGE_BATCH);
      if (purges.length === 0) return;
      const objects = (await bucket.list()).map((info) => info.name);
      for (const purge of purges) {
        await this.purgeOne(
          purge,
          objects,
          report,
          async (subject) => {
            const response = await jsm.streams.purge(names.streams.logs, { filter: subject });
            return response.purged;
          },
          (name) => bucket.delete(name).then(() => undefined),
        );
      }
      if (purges.length < PURGE_BATCH) return;
    }
  }

  private async purgeOne(
    purge: PurgeRow,
    objects: string[],
    report: RetentionReport,
    purgeSubject: (subject: string) => Promise<number>,
    deleteObject: (name: string) => Promise<void>,
  ): Promise<void> {
    const names = natsNames(this.prefix);
    for (const jobId of purge.jobIds) {
      if ((await purgeSubject(names.subjects.log(jobId))) > 0) this.add(report, "logSubjects", 1);
    }
    const prefix = executionArtifactKeyPrefix(purge.executionId);
    for (const name of objects.filter((n) => n.startsWith(prefix))) {
      await deleteObject(name);
      this.add(report, "artifacts", 1);
    }
    await this.store.purged(purge.executionId);
  }

  private add(report: RetentionReport, kind: RetentionKind, count: number): void {
    if (count === 0) return;
    report[kind] += count;
    this.counted(kind, count);
  }
}
