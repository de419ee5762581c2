import type { Metadata } from "next";
import { NotificationsView } from "@/features/notifications/NotificationsView";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Notifications of ${decodeURIComponent((await params).name)}` };
}

export default async function PipelineNotificationsPage({ params }: Props) {
  const { name } = await params;
  return <NotificationsView name={decodeURIComponent(name)} />;
}
