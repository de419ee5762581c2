import { AgentsView } from "@/features/agents/AgentsView";

export const dynamic = "force-dynamic";
export const metadata = { title: "Agents" };

export default function AgentsPage() {
  return <AgentsView />;
}
