import { ExecutionView } from "@/features/execution/ExecutionView";

export const dynamic = "force-dynamic";
export const metadata = { title: "Execution" };

export default async function ExecutionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ExecutionView id={id} />;
}
