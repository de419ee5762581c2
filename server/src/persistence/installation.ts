import type { DataSource } from "typeorm";

/** This database's installation id (made by the Installation migration; PROTOCOL.md 4.3). */
export async function installationIdOf(db: DataSource): Promise<string> {
  const rows: Array<{ id: string }> = await db.query(`SELECT id::text AS id FROM installation`);
  if (!rows[0]) throw new Error("the installation table is empty: the database was not migrated");
  return rows[0].id;
}
