import { MeView } from "@/features/identity/MeView";

export const dynamic = "force-dynamic";
export const metadata = { title: "Who am I" };

/** /me: the caller's identity, effective permissions and own API tokens. */
export default function MePage() {
  return <MeView />;
}
