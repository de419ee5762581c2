"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useSession } from "./Providers";

const LINKS = [
  { href: "/", label: "Pipelines" },
  { href: "/agents", label: "Agents" },
  { href: "/audit", label: "Audit" },
  { href: "/identity", label: "Identity" },
  { href: "/me", label: "Who am I" },
];

/** Skip link, navigation, sign-out, and the live connection status (announced when it changes). */
export function Header() {
  const { token, connection, signOut } = useSession();
  const pathname = usePathname();
  const lost = token && connection === "reconnecting";
  return (
    <header className="header">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Link href="/" className="brand">
        Sluice
      </Link>
      <nav aria-label="Main">
        <ul>
          {LINKS.map((link) => {
            const current =
              link.href === "/"
                ? pathname === "/" || pathname === "/new" || pathname.startsWith("/pipelines")
                : pathname.startsWith(link.href);
            return (
              <li key={link.href}>
                <Link href={link.href} aria-current={current ? "page" : undefined}>
                  {link.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <div role="status" aria-live="polite" className={lost ? "banner banner-warn" : "banner"}>
        {lost ? (
          <>
            <span aria-hidden="true">⟳ </span>Reconnecting… the page will refresh when the server is back.
          </>
        ) : null}
      </div>
      {token ? (
        <button type="button" className="link-button" onClick={() => void signOut()}>
          Sign out
        </button>
      ) : null}
    </header>
  );
}
