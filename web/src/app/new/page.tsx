import type { Metadata } from "next";
import { NewPipeline } from "@/features/editor/EditorPages";

export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<{ from?: string | string[] }> };

export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  const { from } = await searchParams;
  return { title: typeof from === "string" ? `Copy ${from}` : "New pipeline" };
}

/** A new pipeline in the editor; `?from=NAME` starts from a copy of NAME. */
export default async function NewPipelinePage({ searchParams }: Props) {
  const { from } = await searchParams;
  return <NewPipeline from={typeof from === "string" && from ? from : undefined} />;
}
