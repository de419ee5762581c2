import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/Providers";
import { readConfig } from "@/config";
import "./globals.css";

// SLUICE_ENDPOINT is read on every request, so one build can point at any server.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "Sluice", template: "%s · Sluice" },
  description: "Release pipelines, live.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  const { endpoint } = readConfig();
  return (
    <html lang="en">
      <body>
        <Providers endpoint={endpoint}>{children}</Providers>
      </body>
    </html>
  );
}
