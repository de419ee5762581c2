import { PipelinesList } from "@/features/pipelines/PipelinesList";

export const dynamic = "force-dynamic";
export const metadata = { title: "Pipelines" };

export default function PipelinesPage() {
  return <PipelinesList />;
}
