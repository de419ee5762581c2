import { IdentityView } from "@/features/identity/IdentityView";

export const dynamic = "force-dynamic";
export const metadata = { title: "Identity" };

/** /identity: users, groups, service accounts and policies, for those who manage them. */
export default function IdentityPage() {
  return <IdentityView />;
}
