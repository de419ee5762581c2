/**
 * The rows of a statement with RETURNING. TypeORM's `query()` answers `[rows, affectedCount]` for
 * UPDATE and DELETE but the rows alone for SELECT and INSERT; this gives the rows either way.
 */
export async function queryReturning<T>(
  runner: { query(sql: string, params?: unknown[]): Promise<unknown> },
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const result = await runner.query(sql, params);
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}
