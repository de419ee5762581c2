import type { Metadata } from "next";
import { PipelineView } from "@/features/pipeline/PipelineView";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: decodeURIComponent((await params).name) };
}

export default async function PipelinePage({ params }: Props) {
  const { name } = await params;
  return <PipelineView name={decodeURIComponent(name)} />;
}
