import type { Metadata } from "next";
import { HistoryView } from "@/features/history/HistoryView";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `History of ${decodeURIComponent((await params).name)}` };
}

export default async function PipelineHistoryPage({ params }: Props) {
  const { name } = await params;
  return <HistoryView name={decodeURIComponent(name)} />;
}
