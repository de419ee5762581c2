import type { Metadata } from "next";
import { EditPipeline } from "@/features/editor/EditorPages";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Edit ${decodeURIComponent((await params).name)}` };
}

export default async function EditPipelinePage({ params }: Props) {
  const { name } = await params;
  return <EditPipeline name={decodeURIComponent(name)} />;
}
