import { AuditView, type AuditFilters } from "@/features/audit/AuditView";

export const dynamic = "force-dynamic";
export const metadata = { title: "Audit log" };

type Param = string | string[] | undefined;
type Props = { searchParams: Promise<Record<keyof AuditFilters | "after", Param>> };

const one = (value: Param): string => (typeof value === "string" ? value : "");

/** /audit?pipelineName=&principal=&operation=&after=: the filters and the page live in the address. */
export default async function AuditPage({ searchParams }: Props) {
  const params = await searchParams;
  return (
    <AuditView
      filters={{
        pipelineName: one(params.pipelineName),
        principal: one(params.principal),
        operation: one(params.operation),
      }}
      after={one(params.after) || null}
    />
  );
}
