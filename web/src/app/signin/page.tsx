import { SignIn } from "@/features/signin/SignIn";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default function SignInPage() {
  return <SignIn />;
}
