import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The dashboard is one build that points anywhere: nothing of the environment is baked in.
  env: {},
};

export default config;
