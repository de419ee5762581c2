import { LogViewer } from "@/features/logs/LogViewer";

export const dynamic = "force-dynamic";
export const metadata = { title: "Logs" };

export default async function LogsPage({
  params,
}: {
  params: Promise<{ id: string; actionExecutionId: string }>;
}) {
  const { id, actionExecutionId } = await params;
  return <LogViewer executionId={id} actionExecutionId={actionExecutionId} />;
}
